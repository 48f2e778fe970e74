// Connections: status, health history, connecting and reconnecting amoCRM, pasting new
// manual credentials, and what a broken one holds up.
import { Accordion, Alert, Anchor, Badge, Button, Card, Group, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { placeErrors, SchemaForm, validate, withConstants, words, type Config, type Errors, type SchemaNode } from "../components/SchemaForm";
import { QueryState } from "../components/States";
import { useLocale } from "../i18n/locale";

const HEALTHY = ["healthy", "expiring"];

function Checks({ connection }: { connection: Schemas["ConnectionOut"] }) {
  const { when } = useLocale();
  const { t } = useTranslation();
  const checks = useQuery({
    queryKey: ["checks", connection.id],
    queryFn: () => unwrap(api.GET("/api/connections/{connection_id}/checks", { params: { path: { connection_id: connection.id } } })),
  });
  return (
    <QueryState query={checks} empty={t("connections.noChecks")} isEmpty={(list) => list.length === 0}>
      {(list) => (
        <Table aria-label={t("connections.history")}>
          <Table.Tbody>
            {list.slice(0, 10).map((check, index) => (
              <Table.Tr key={index}>
                <Table.Td>{when(check.checked_at)}</Table.Td>
                <Table.Td>{t(`connections.status.${check.status}`)}</Table.Td>
                <Table.Td><Text size="sm">{check.detail}</Text></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </QueryState>
  );
}

/** Connecting by pasted credentials, one form per way the provider accepts (a cash desk
 * log-in, a browser session, a long-lived token …); the same account pasted again
 * replaces its credentials. */
function Credentials({ provider }: { provider: Schemas["ProviderOut"] }) {
  const { t } = useTranslation();
  const { language } = useLocale();
  const client = useQueryClient();
  const forms = provider.credential_forms as SchemaNode[];
  const [picked, setPicked] = useState("0");
  const form = forms[Number(picked)];
  const [values, setValues] = useState<Config>({});
  const [errors, setErrors] = useState<Errors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const paste = useMutation({
    mutationFn: (body: Config) =>
      unwrap(api.POST("/api/connections/{provider}/credentials", { params: { path: { provider: provider.name } }, body: body as Record<string, never> })),
    onSuccess: () => {
      setValues({});
      void client.invalidateQueries({ queryKey: ["connections"] });
    },
    onError: (error) => {
      const placed = placeErrors(form, error.message);
      setErrors(placed.errors);
      setProblem(placed.rest.join("; ") || null);
    },
  });
  const submit = () => {
    const found = validate(form, values, t);
    setErrors(found);
    setProblem(null);
    if (Object.keys(found).length === 0) paste.mutate(withConstants(form, values));
  };
  return (
    <form
      noValidate
      data-credentials={provider.name}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <Stack gap="sm">
        {forms.length > 1 && (
          <SegmentedControl
            value={picked}
            onChange={(value) => {
              setPicked(value);
              setValues({});
              setErrors({});
            }}
            data={forms.map((f, index) => ({ value: String(index), label: words(f, language).title ?? String(index) }))}
          />
        )}
        {words(form, language).description && <Text size="sm" c="dimmed">{words(form, language).description}</Text>}
        <SchemaForm schema={form} config={values} choices={{}} errors={errors} onChange={setValues} />
        {problem && <Alert color="red" role="alert">{problem}</Alert>}
        {paste.isSuccess && <Alert color="green" role="status">{t("connections.connected")}</Alert>}
        <Group>
          <Button type="submit" loading={paste.isPending}>{t("connections.save")}</Button>
        </Group>
      </Stack>
    </form>
  );
}

export function Connections() {
  const { t } = useTranslation();
  const { account } = useSession();
  const manage = canManage(account);
  const client = useQueryClient();
  const query = useQuery({ queryKey: ["connections"], queryFn: () => unwrap(api.GET("/api/connections")), refetchInterval: 10000 });
  const providers = useQuery({ queryKey: ["providers"], queryFn: () => unwrap(api.GET("/api/connections/providers")) });
  const pasteable = (providers.data ?? []).filter((p) => p.credential_forms.length > 0);
  const [params] = useSearchParams();
  const connect = useMutation({
    mutationFn: (provider: string) => unwrap(api.POST("/api/connections/{provider}/authorize", { params: { path: { provider } } })),
    onSuccess: (start) => window.location.assign(start.authorization_url),
  });
  const check = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/connections/{connection_id}/check", { params: { path: { connection_id: id } } })),
    onSuccess: () => client.invalidateQueries(),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("nav.connections")}</Title>
        {manage && (
          <Group>
            {(providers.data ?? []).filter((p) => p.consent).map((p) => (
              <Button key={p.name} loading={connect.isPending && connect.variables === p.name} onClick={() => connect.mutate(p.name)}>
                {t("connections.connect", { provider: p.title })}
              </Button>
            ))}
          </Group>
        )}
      </Group>
      {connect.error && <Alert color="red" role="alert">{connect.error.message}</Alert>}
      {params.get("connected") && <Alert color="green" role="status">{t("connections.connected")}</Alert>}
      {params.get("error") && <Alert color="red" role="alert">{params.get("error")}</Alert>}
      <QueryState query={query} empty={t("connections.none")} isEmpty={(list) => list.length === 0}>
        {(list) =>
          list.map((connection) => (
            <Card withBorder key={connection.id} data-connection={connection.provider}>
              <Stack gap="xs">
                <Group justify="space-between">
                  <Title order={3} size="h4">{connection.name}</Title>
                  <Badge color={HEALTHY.includes(connection.status) ? "green" : "red"}>{t(`connections.status.${connection.status}`)}</Badge>
                </Group>
                <Text size="sm" c="dimmed">{connection.provider} · {connection.account_ref}</Text>
                {!HEALTHY.includes(connection.status) && (
                  <Alert color="red" role="alert">
                    {t("connections.blocks")}{" "}
                    {(connection.paused_events ?? 0) > 0 && (
                      <Anchor component={Link} to="/app/events?status=paused">
                        {t("connections.waiting", { count: connection.paused_events })}
                      </Anchor>
                    )}
                  </Alert>
                )}
                {manage && (
                  <Group>
                    <Button size="xs" variant="light" loading={check.isPending} onClick={() => check.mutate(connection.id)}>
                      {t("connections.checkNow")}
                    </Button>
                    {providers.data?.find((p) => p.name === connection.provider)?.consent && (
                      <Button size="xs" variant="outline" onClick={() => connect.mutate(connection.provider)}>
                        {t("connections.reconnect")}
                      </Button>
                    )}
                  </Group>
                )}
                <Checks connection={connection} />
              </Stack>
            </Card>
          ))
        }
      </QueryState>
      {manage && pasteable.length > 0 && (
        <Accordion variant="contained">
          {pasteable.map((provider) => (
            <Accordion.Item key={provider.name} value={provider.name}>
              <Accordion.Control>{t("connections.withCredentials", { provider: provider.title })}</Accordion.Control>
              <Accordion.Panel>
                <Credentials provider={provider} />
              </Accordion.Panel>
            </Accordion.Item>
          ))}
        </Accordion>
      )}
    </Stack>
  );
}
