// Connections: status, health history, connecting and reconnecting amoCRM, pasting new
// manual credentials, and what a broken one holds up.
import { Alert, Anchor, Badge, Button, Card, Group, JsonInput, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { QueryState } from "../components/States";

const HEALTHY = ["healthy", "expiring"];

function Checks({ connection }: { connection: Schemas["ConnectionOut"] }) {
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
                <Table.Td>{new Date(check.checked_at).toLocaleString()}</Table.Td>
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

function Paste({ provider }: { provider: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [text, setText] = useState("{}");
  const paste = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/connections/{provider}/credentials", { params: { path: { provider } }, body: JSON.parse(text) as Record<string, never> })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["connections"] }),
  });
  return (
    <Stack gap="xs">
      <JsonInput label={t("connections.paste")} description={t("connections.pasteHint")} value={text} onChange={setText} autosize minRows={3} validationError={t("connections.notJson")} />
      {paste.error && <Alert color="red" role="alert">{paste.error.message}</Alert>}
      <Button size="xs" variant="light" loading={paste.isPending} onClick={() => paste.mutate()}>
        {t("connections.save")}
      </Button>
    </Stack>
  );
}

export function Connections() {
  const { t } = useTranslation();
  const { account } = useSession();
  const manage = canManage(account);
  const client = useQueryClient();
  const query = useQuery({ queryKey: ["connections"], queryFn: () => unwrap(api.GET("/api/connections")), refetchInterval: 10000 });
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
          <Button loading={connect.isPending} onClick={() => connect.mutate("amocrm")}>
            {t("connections.connectAmo")}
          </Button>
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
                    {connection.provider === "amocrm" && (
                      <Button size="xs" variant="outline" onClick={() => connect.mutate("amocrm")}>
                        {t("connections.reconnect")}
                      </Button>
                    )}
                  </Group>
                )}
                {manage && connection.provider !== "amocrm" && <Paste provider={connection.provider} />}
                <Checks connection={connection} />
              </Stack>
            </Card>
          ))
        }
      </QueryState>
    </Stack>
  );
}
