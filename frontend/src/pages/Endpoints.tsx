// Webhook URLs: copy, a sample request for the format, a test order, a new URL, a new endpoint.
import { Alert, Anchor, Button, Card, Code, CopyButton, Group, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { showServerError } from "../components/forms";
import { QueryState } from "../components/States";
import { ShownOnce } from "../components/ShownOnce";
import { useLocale } from "../i18n/locale";

/** A curl command sending the format's sample order to the URL, quoted for a POSIX shell. */
export function sampleCurl(url: string, sample: Schemas["SampleOut"] | null | undefined): string | null {
  if (!sample) return null;
  const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  return `curl -X POST ${quoted(url)} -H ${quoted(`Content-Type: ${sample.content_type}`)} --data-binary ${quoted(sample.body)}`;
}

function useFormats() {
  return useQuery({ queryKey: ["formats"], queryFn: () => unwrap(api.GET("/api/endpoints/formats")) });
}

/** The format's sample order sent to this URL from here, as the shop would send it. */
function TestOrder({ endpoint }: { endpoint: Schemas["EndpointOut"] }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const send = useMutation({
    mutationFn: () => unwrap(api.POST("/api/endpoints/{endpoint_id}/test-order", { params: { path: { endpoint_id: endpoint.id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["events"] });
      void client.invalidateQueries({ queryKey: ["onboarding"] });
    },
  });
  return (
    <Stack gap="xs">
      <Group>
        <Button variant="light" size="xs" loading={send.isPending} onClick={() => send.mutate()}>
          {t("endpoints.sendTest")}
        </Button>
      </Group>
      {send.data && (
        <Alert color="green" role="status">
          {t("endpoints.testSent", { order: send.data.order_id })}{" "}
          <Anchor component={Link} to={`/app/events/${send.data.event_id}`}>{t("endpoints.seeEvent")}</Anchor>
        </Alert>
      )}
      {send.error && <Alert color="red" role="alert">{send.error.message}</Alert>}
    </Stack>
  );
}

function SigningSecret({ endpoint }: { endpoint: Schemas["EndpointOut"] }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const path = { params: { path: { endpoint_id: endpoint.id } } };
  const reveal = useMutation({ mutationFn: () => unwrap(api.GET("/api/endpoints/{endpoint_id}/signing-secret", path)) });
  const rotate = useMutation({
    mutationFn: (enabled: boolean) => unwrap(api.POST("/api/endpoints/{endpoint_id}/signing-secret", { ...path, body: { enabled } })),
    onSuccess: () => {
      setConfirming(false);
      void client.invalidateQueries({ queryKey: ["endpoints"] });
    },
  });
  const shown = rotate.data ?? reveal.data;
  return (
    <Stack gap={4}>
      <Text size="sm">{endpoint.signed ? t("endpoints.signed") : t("endpoints.unsigned")}</Text>
      {shown?.secret && <ShownOnce value={shown.secret} testId="signing-secret" />}
      <Group>
        {endpoint.signed && (
          <Button size="xs" variant="subtle" loading={reveal.isPending} onClick={() => reveal.mutate()}>{t("endpoints.reveal")}</Button>
        )}
        {confirming ? (
          <>
            <Text size="xs" c="orange">{t("endpoints.rotateSecretWarning")}</Text>
            <Button size="xs" color="orange" loading={rotate.isPending} onClick={() => rotate.mutate(true)}>{t("endpoints.confirm")}</Button>
          </>
        ) : (
          <Button size="xs" variant="subtle" onClick={() => setConfirming(true)}>{t("endpoints.newSecret")}</Button>
        )}
        {endpoint.signed && (
          <Button size="xs" variant="subtle" color="red" loading={rotate.isPending} onClick={() => rotate.mutate(false)}>{t("endpoints.noSecret")}</Button>
        )}
      </Group>
      {(reveal.error || rotate.error) && <Alert color="red" role="alert">{(reveal.error ?? rotate.error)?.message}</Alert>}
    </Stack>
  );
}

function EndpointCard({ endpoint, manage }: { endpoint: Schemas["EndpointOut"]; manage: boolean }) {
  const { when, named } = useLocale();
  const { t } = useTranslation();
  const client = useQueryClient();
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/endpoints/{endpoint_id}/rotate-token", { params: { path: { endpoint_id: endpoint.id } }, body: { grace_seconds: 86400 } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["endpoints"] }),
  });
  const formats = useFormats();
  const format = formats.data?.find((f) => f.name === endpoint.source_format);
  const curl = sampleCurl(endpoint.url, format?.sample);
  return (
    <Card withBorder data-endpoint={endpoint.name}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={3} size="h4">{endpoint.name}</Title>
          <Text size="sm" c="dimmed">{t("endpoints.format")}: {format ? named(format).title : endpoint.source_format}</Text>
        </Group>
        <Group wrap="nowrap">
          <Code block tabIndex={0} style={{ flex: 1 }} data-testid="webhook-url">{endpoint.url}</Code>
          <CopyButton value={endpoint.url}>
            {({ copied, copy }) => (
              <Button variant="light" onClick={copy} aria-label={t("endpoints.copyUrl")}>
                {copied ? t("endpoints.copied") : t("endpoints.copy")}
              </Button>
            )}
          </CopyButton>
        </Group>
        {curl && (
          <>
            <Text size="sm">{t("endpoints.sample")}</Text>
            <Code block tabIndex={0} style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>{curl}</Code>
          </>
        )}
        {manage && curl && <TestOrder endpoint={endpoint} />}
        {endpoint.previous_token_valid_until && (
          <Text size="sm" c="orange">{t("endpoints.oldUrlUntil", { when: when(endpoint.previous_token_valid_until) })}</Text>
        )}
        {manage && <SigningSecret endpoint={endpoint} />}
        {manage && (
          <Group>
            <Button variant="outline" color="orange" size="xs" loading={rotate.isPending} onClick={() => rotate.mutate()}>
              {t("endpoints.rotate")}
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

function NewEndpoint() {
  const { named } = useLocale();
  const { t } = useTranslation();
  const client = useQueryClient();
  const formats = useFormats();
  const installations = useQuery({ queryKey: ["installations"], queryFn: () => unwrap(api.GET("/api/installations")) });
  const form = useForm({
    initialValues: { name: "", source_format: "", installation_id: "" },
    validate: {
      name: (v) => (v.trim() ? null : t("common.required")),
      source_format: (v) => (v ? null : t("common.required")),
      installation_id: (v) => (v ? null : t("common.required")),
    },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/endpoints", { body: values })),
    onSuccess: () => {
      form.reset();
      void client.invalidateQueries({ queryKey: ["endpoints"] });
    },
    onError: (error) => setFailure(showServerError(form, error)),
  });
  return (
    <Card withBorder>
      <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
        <Stack>
          <Title order={3} size="h4">{t("endpoints.new")}</Title>
          <TextInput label={t("endpoints.name")} required {...form.getInputProps("name")} />
          <Select
            label={t("endpoints.format")}
            required
            data={(formats.data ?? []).map((f) => ({ value: f.name, label: named(f).title }))}
            {...form.getInputProps("source_format")}
          />
          <Select
            label={t("endpoints.plugin")}
            required
            data={(installations.data ?? []).map((i) => ({ value: i.id, label: named(i).title }))}
            {...form.getInputProps("installation_id")}
          />
          {failure && <Alert color="red" role="alert">{failure}</Alert>}
          <Button type="submit" loading={create.isPending}>{t("endpoints.create")}</Button>
        </Stack>
      </form>
    </Card>
  );
}

export function Endpoints() {
  const { t } = useTranslation();
  const { account } = useSession();
  const query = useQuery({ queryKey: ["endpoints"], queryFn: () => unwrap(api.GET("/api/endpoints")) });
  const manage = canManage(account);
  return (
    <Stack>
      <Title order={2}>{t("nav.endpoints")}</Title>
      <QueryState query={query} empty={t("endpoints.none")} isEmpty={(list) => list.length === 0}>
        {(list) => list.map((endpoint) => <EndpointCard key={endpoint.id} endpoint={endpoint} manage={manage} />)}
      </QueryState>
      {manage && <NewEndpoint />}
    </Stack>
  );
}
