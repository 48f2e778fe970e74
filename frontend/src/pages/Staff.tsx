// The staff console: tenants, their plugins, suspension, read-only impersonation, and
// unhealthy connections across tenants.
import { Alert, Badge, Button, Card, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { type Account, useSession } from "../auth";
import { QueryState } from "../components/States";

function TenantRow({ tenant, plugins }: { tenant: Schemas["TenantOut"]; plugins: Schemas["PluginOut"][] }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const { accept } = useSession();
  const navigate = useNavigate();
  const [plugin, setPlugin] = useState<string | null>(null);
  const path = { params: { path: { tenant_id: tenant.id } } };
  const refresh = () => client.invalidateQueries({ queryKey: ["tenants"] });
  const suspend = useMutation({
    mutationFn: () =>
      unwrap(
        tenant.status === "suspended"
          ? api.POST("/api/staff/tenants/{tenant_id}/resume", path)
          : api.POST("/api/staff/tenants/{tenant_id}/suspend", path),
      ),
    onSuccess: refresh,
  });
  const install = useMutation({
    mutationFn: (name: string) => unwrap(api.POST("/api/staff/tenants/{tenant_id}/installations", { ...path, body: { plugin: name, config: {} } })),
    onSuccess: refresh,
  });
  const impersonate = useMutation({
    mutationFn: () => unwrap(api.POST("/api/staff/tenants/{tenant_id}/impersonate", path)),
    onSuccess: async () => {
      accept((await unwrap(api.GET("/api/auth/me"))) as unknown as Account);
      navigate("/app");
    },
  });
  return (
    <Table.Tr data-tenant={tenant.slug}>
      <Table.Td>
        <Text fw={600}>{tenant.name}</Text>
        <Text size="xs" c="dimmed">{tenant.slug}</Text>
      </Table.Td>
      <Table.Td><Badge color={tenant.status === "active" ? "green" : "orange"}>{tenant.status}</Badge></Table.Td>
      <Table.Td>{(tenant.plugins ?? []).join(", ") || "—"}</Table.Td>
      <Table.Td>
        <Group gap="xs">
          <Select
            size="xs"
            aria-label={t("staff.plugin")}
            placeholder={t("staff.plugin")}
            data={plugins.filter((p) => !(tenant.plugins ?? []).includes(p.name)).map((p) => ({ value: p.name, label: p.name }))}
            value={plugin}
            onChange={setPlugin}
            w={150}
          />
          <Button size="xs" disabled={!plugin} loading={install.isPending} onClick={() => plugin && install.mutate(plugin)}>
            {t("staff.install")}
          </Button>
          <Button size="xs" variant="light" color="orange" loading={suspend.isPending} onClick={() => suspend.mutate()}>
            {tenant.status === "suspended" ? t("staff.resume") : t("staff.suspend")}
          </Button>
          <Button size="xs" variant="subtle" loading={impersonate.isPending} onClick={() => impersonate.mutate()}>
            {t("staff.impersonate")}
          </Button>
        </Group>
        {install.error && <Text size="xs" c="red" role="alert">{install.error.message}</Text>}
      </Table.Td>
    </Table.Tr>
  );
}

export function Staff() {
  const { t } = useTranslation();
  const [search, setSearch] = useState("");
  const tenants = useQuery({
    queryKey: ["tenants", search],
    queryFn: () => unwrap(api.GET("/api/staff/tenants", { params: { query: { q: search || undefined } } })),
  });
  const plugins = useQuery({ queryKey: ["plugins"], queryFn: () => unwrap(api.GET("/api/staff/plugins")) });
  const unhealthy = useQuery({ queryKey: ["unhealthy"], queryFn: () => unwrap(api.GET("/api/staff/connections")) });
  return (
    <Stack>
      <Title order={2}>{t("nav.staff")}</Title>
      <TextInput label={t("staff.search")} value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
      <QueryState query={tenants} empty={t("staff.noTenants")} isEmpty={(list) => list.length === 0}>
        {(list) => (
          <Table aria-label={t("staff.tenants")}>
            <Table.Tbody>
              {list.map((tenant) => <TenantRow key={tenant.id} tenant={tenant} plugins={plugins.data ?? []} />)}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      <Card withBorder>
        <Title order={3} size="h5">{t("staff.unhealthy")}</Title>
        <QueryState query={unhealthy} empty={t("staff.allHealthy")} isEmpty={(list) => list.length === 0}>
          {(list) =>
            list.map((connection) => (
              <Alert key={connection.id} color="red" mt="xs">
                {connection.tenant_slug}: {connection.name} — {connection.status} ({t("staff.pausedEvents", { count: connection.paused_events })})
              </Alert>
            ))
          }
        </QueryState>
      </Card>
    </Stack>
  );
}
