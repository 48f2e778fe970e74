// Where a workspace's alerts go (email, Telegram, a webhook), each tried with a test send
// whose outcome is shown; how often a broken connection is brought up again; the alerts
// sent and whether they arrived.
import { Alert, Badge, Button, Card, Group, NumberInput, SegmentedControl, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { showServerError } from "../components/forms";
import { QueryState } from "../components/States";
import { ShownOnce } from "../components/ShownOnce";
import { useLocale } from "../i18n/locale";

type Kind = "email" | "telegram" | "webhook";

function target(channel: Schemas["ChannelOut"]): string {
  if (channel.kind === "email") return channel.recipients.join(", ");
  return (channel.kind === "telegram" ? channel.chat_id : channel.url) ?? "";
}

function Channel({ channel, manage }: { channel: Schemas["ChannelOut"]; manage: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const path = { params: { path: { channel_id: channel.id } } };
  const refresh = () => client.invalidateQueries({ queryKey: ["channels"] });
  const [confirming, setConfirming] = useState(false);
  const test = useMutation({
    mutationFn: () => unwrap(api.POST("/api/alerts/channels/{channel_id}/test", path)),
    onSettled: () => client.invalidateQueries({ queryKey: ["alerts"] }),
  });
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => unwrap(api.PATCH("/api/alerts/channels/{channel_id}", { ...path, body: { enabled } })),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: () => unwrap(api.DELETE("/api/alerts/channels/{channel_id}", path)), onSuccess: refresh });
  const rotate = useMutation({ mutationFn: () => unwrap(api.POST("/api/alerts/channels/{channel_id}/rotate-secret", path)) });
  const error = toggle.error ?? remove.error ?? rotate.error;
  return (
    <Card withBorder data-channel={channel.name}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap">
          <div style={{ minWidth: 0 }}>
            <Group gap="xs">
              <Text fw={600}>{channel.name}</Text>
              <Badge variant="light">{t(`alerts.kinds.${channel.kind}`)}</Badge>
              {channel.own_bot && <Badge variant="outline">{t("alerts.ownBot")}</Badge>}
            </Group>
            <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>{target(channel)}</Text>
          </div>
          <Switch
            label={t("alerts.sends")}
            checked={channel.enabled}
            disabled={!manage || toggle.isPending}
            onChange={(e) => toggle.mutate(e.currentTarget.checked)}
          />
        </Group>
        {manage && (
          <Group>
            <Button size="xs" variant="light" loading={test.isPending} onClick={() => test.mutate()}>{t("alerts.test")}</Button>
            {channel.kind === "webhook" && (
              <Button size="xs" variant="subtle" loading={rotate.isPending} onClick={() => rotate.mutate()}>{t("endpoints.newSecret")}</Button>
            )}
            {confirming ? (
              <>
                <Button size="xs" color="red" loading={remove.isPending} onClick={() => remove.mutate()}>{t("alerts.confirmRemove", { name: channel.name })}</Button>
                <Button size="xs" variant="subtle" onClick={() => setConfirming(false)}>{t("common.cancel")}</Button>
              </>
            ) : (
              <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(true)}>{t("alerts.remove")}</Button>
            )}
          </Group>
        )}
        {test.data && (
          test.data.status === "sent" ? (
            <Alert color="green" role="status">{t("alerts.testArrived", { target: test.data.target })}</Alert>
          ) : (
            <Alert color="red" role="alert">{t("alerts.testFailed", { error: test.data.last_error ?? test.data.status })}</Alert>
          )
        )}
        {test.error && <Alert color="red" role="alert">{test.error.message}</Alert>}
        {rotate.data && <ShownOnce note={t("alerts.secretOnce")} value={rotate.data.signing_secret} testId="channel-secret" />}
        {error && <Alert color="red" role="alert">{error.message}</Alert>}
      </Stack>
    </Card>
  );
}

function NewChannel() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [kind, setKind] = useState<Kind>("email");
  const form = useForm({
    initialValues: { name: "", recipients: "", chat_id: "", bot_token: "", url: "" },
    validate: {
      name: (v) => (v.trim() ? null : t("common.required")),
      recipients: (v) =>
        kind !== "email" || v.split(",").every((a) => /^\S+@\S+\.\S+$/.test(a.trim())) ? null : t("auth.emailInvalid"),
      chat_id: (v) => (kind !== "telegram" || /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/.test(v.trim()) ? null : t("alerts.chatIdInvalid")),
      bot_token: (v) => (kind !== "telegram" || !v.trim() || /^\d{1,20}:[A-Za-z0-9_-]{30,60}$/.test(v.trim()) ? null : t("alerts.botTokenInvalid")),
      url: (v) => (kind !== "webhook" || /^https?:\/\/\S+$/.test(v.trim()) ? null : t("alerts.urlInvalid")),
    },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (values: typeof form.values) => {
      const name = values.name.trim();
      const body =
        kind === "email"
          ? { kind, name, recipients: values.recipients.split(",").map((a) => a.trim()) }
          : kind === "telegram"
            ? { kind, name, chat_id: values.chat_id.trim(), bot_token: values.bot_token.trim() || null }
            : { kind, name, url: values.url.trim() };
      return unwrap(api.POST("/api/alerts/channels", { body }));
    },
    onSuccess: () => {
      form.reset();
      setFailure(null);
      void client.invalidateQueries({ queryKey: ["channels"] });
    },
    onError: (error) => setFailure(showServerError(form, error)),
  });
  return (
    <Card withBorder>
      <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
        <Stack>
          <Title order={3} size="h5">{t("alerts.new")}</Title>
          <SegmentedControl
            aria-label={t("alerts.kind")}
            value={kind}
            onChange={(value) => {
              setKind(value as Kind);
              form.clearErrors();
            }}
            data={(["email", "telegram", "webhook"] as const).map((k) => ({ value: k, label: t(`alerts.kinds.${k}`) }))}
          />
          <TextInput label={t("alerts.name")} required {...form.getInputProps("name")} />
          {kind === "email" && (
            <TextInput label={t("alerts.recipients")} description={t("alerts.recipientsHint")} required {...form.getInputProps("recipients")} />
          )}
          {kind === "telegram" && (
            <>
              <TextInput label={t("alerts.chatId")} description={t("alerts.chatIdHint")} required {...form.getInputProps("chat_id")} />
              <TextInput label={t("alerts.botToken")} description={t("alerts.botTokenHint")} type="password" autoComplete="off" {...form.getInputProps("bot_token")} />
            </>
          )}
          {kind === "webhook" && (
            <TextInput label={t("alerts.url")} description={t("alerts.urlHint")} required {...form.getInputProps("url")} />
          )}
          {failure && <Alert color="red" role="alert">{failure}</Alert>}
          {create.data?.signing_secret && <ShownOnce note={t("alerts.secretOnce")} value={create.data.signing_secret} testId="channel-secret" />}
          <Button type="submit" loading={create.isPending}>{t("alerts.add")}</Button>
        </Stack>
      </form>
    </Card>
  );
}

function Reminders({ manage }: { manage: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const settings = useQuery({ queryKey: ["alert-settings"], queryFn: () => unwrap(api.GET("/api/alerts/settings")) });
  const [hours, setHours] = useState<number | string>("");
  useEffect(() => {
    if (settings.data) setHours(settings.data.reminder_hours);
  }, [settings.data]);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/alerts/settings", { body: { reminder_hours: Number(hours) } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["alert-settings"] }),
  });
  const invalid = !Number.isInteger(Number(hours)) || Number(hours) < 1 || Number(hours) > 168;
  return (
    <Card withBorder>
      <Group align="flex-end">
        <NumberInput
          label={t("alerts.reminder")}
          description={t("alerts.reminderHint")}
          value={hours}
          onChange={setHours}
          min={1}
          max={168}
          allowDecimal={false}
          disabled={!manage}
          error={hours !== "" && invalid ? t("alerts.reminderInvalid") : (save.error?.message ?? null)}
          w={320}
        />
        {manage && (
          <Button variant="light" disabled={invalid} loading={save.isPending} onClick={() => save.mutate()}>{t("plugins.save")}</Button>
        )}
      </Group>
      {save.isSuccess && !save.isPending && <Text size="sm" c="green.9" role="status" mt="xs">{t("alerts.saved")}</Text>}
    </Card>
  );
}

function Sent() {
  const { t } = useTranslation();
  const { when } = useLocale();
  const alerts = useQuery({ queryKey: ["alerts"], queryFn: () => unwrap(api.GET("/api/alerts", { params: { query: { limit: 20 } } })) });
  return (
    <Card withBorder>
      <Title order={3} size="h5">{t("alerts.sent")}</Title>
      <QueryState query={alerts} empty={t("alerts.noneSent")} isEmpty={(list) => list.length === 0}>
        {(list) => (
          <Table aria-label={t("alerts.sent")}>
            <Table.Tbody>
              {list.map((alert) => (
                <Table.Tr key={alert.id}>
                  <Table.Td><Text size="sm">{when(alert.created_at)}</Text></Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{alert.subject}</Table.Td>
                  <Table.Td>
                    <Stack gap={2}>
                      {alert.deliveries.map((delivery) => (
                        <Text size="sm" key={delivery.id} c={delivery.status === "failed" ? "red.8" : undefined} style={{ overflowWrap: "anywhere" }}>
                          {delivery.target}: {t(`alerts.delivery.${delivery.status}`)}
                          {delivery.status === "failed" && delivery.last_error ? ` (${delivery.last_error})` : ""}
                        </Text>
                      ))}
                    </Stack>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </Card>
  );
}

export function Alerts() {
  const { t } = useTranslation();
  const { account } = useSession();
  const manage = canManage(account);
  const channels = useQuery({ queryKey: ["channels"], queryFn: () => unwrap(api.GET("/api/alerts/channels")) });
  return (
    <Stack>
      <Title order={2}>{t("nav.alerts")}</Title>
      <Text c="dimmed">{t("alerts.intro")}</Text>
      <QueryState query={channels} empty={t("alerts.none")} isEmpty={(list) => list.length === 0}>
        {(list) => list.map((channel) => <Channel key={channel.id} channel={channel} manage={manage} />)}
      </QueryState>
      {manage && <NewChannel />}
      <Reminders manage={manage} />
      <Sent />
    </Stack>
  );
}
