// Where a workspace's alerts go, with a test send per channel.
import { Alert, Badge, Button, Card, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap } from "../api/client";
import { canManage, useSession } from "../auth";
import { showServerError } from "../components/forms";
import { QueryState } from "../components/States";

export function Alerts() {
  const { t } = useTranslation();
  const { account } = useSession();
  const client = useQueryClient();
  const channels = useQuery({ queryKey: ["channels"], queryFn: () => unwrap(api.GET("/api/alerts/channels")) });
  const test = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/alerts/channels/{channel_id}/test", { params: { path: { channel_id: id } } })),
  });
  const form = useForm({
    initialValues: { name: "", recipients: "" },
    validate: {
      name: (v) => (v.trim() ? null : t("common.required")),
      recipients: (v) => (v.split(",").every((a) => /^\S+@\S+\.\S+$/.test(a.trim())) ? null : t("auth.emailInvalid")),
    },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (values: typeof form.values) =>
      unwrap(
        api.POST("/api/alerts/channels", {
          body: { kind: "email", name: values.name, recipients: values.recipients.split(",").map((a) => a.trim()) },
        }),
      ),
    onSuccess: () => {
      form.reset();
      void client.invalidateQueries({ queryKey: ["channels"] });
    },
    onError: (error) => setFailure(showServerError(form, error)),
  });
  return (
    <Stack>
      <Title order={2}>{t("nav.alerts")}</Title>
      <Text c="dimmed">{t("alerts.intro")}</Text>
      <QueryState query={channels} empty={t("alerts.none")} isEmpty={(list) => list.length === 0}>
        {(list) =>
          list.map((channel) => (
            <Card withBorder key={channel.id}>
              <Group justify="space-between">
                <div>
                  <Text fw={600}>{channel.name}</Text>
                  <Text size="sm" c="dimmed">{channel.kind}</Text>
                </div>
                <Group>
                  <Badge color={channel.enabled ? "green" : "gray"}>{channel.enabled ? t("alerts.on") : t("alerts.off")}</Badge>
                  {canManage(account) && (
                    <Button size="xs" variant="light" loading={test.isPending} onClick={() => test.mutate(channel.id)}>
                      {t("alerts.test")}
                    </Button>
                  )}
                </Group>
              </Group>
            </Card>
          ))
        }
      </QueryState>
      {test.isSuccess && <Alert color="green" role="status">{t("alerts.testSent")}</Alert>}
      {test.error && <Alert color="red" role="alert">{test.error.message}</Alert>}
      {canManage(account) && (
        <Card withBorder>
          <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
            <Stack>
              <Title order={3} size="h5">{t("alerts.newEmail")}</Title>
              <TextInput label={t("alerts.name")} required {...form.getInputProps("name")} />
              <TextInput label={t("alerts.recipients")} description={t("alerts.recipientsHint")} required {...form.getInputProps("recipients")} />
              {failure && <Alert color="red" role="alert">{failure}</Alert>}
              <Button type="submit" loading={create.isPending}>{t("alerts.add")}</Button>
            </Stack>
          </form>
        </Card>
      )}
    </Stack>
  );
}
