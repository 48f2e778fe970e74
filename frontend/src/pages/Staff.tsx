// The staff console: tenants, their plugins, suspension, read-only impersonation, and
// what fails across tenants (connections that do not work, events that failed).
import { Alert, Anchor, Badge, Button, Card, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { type Account, useSession } from "../auth";
import { QueryState } from "../components/States";
import { StatusBadge } from "./Events";
import { useLocale } from "../i18n/locale";

function TenantRow({ tenant, plugins }: { tenant: Schemas["TenantOut"]; plugins: Schemas["PluginOut"][] }) {
  const { named } = useLocale();
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
        <Anchor component={Link} to={`/app/staff/tenants/${tenant.id}`} fw={600}>{tenant.name}</Anchor>
        <Text size="xs" c="dimmed">{tenant.slug}</Text>
      </Table.Td>
      <Table.Td><Badge color={tenant.status === "active" ? "green" : "orange"}>{t(`staff.status.${tenant.status}`)}</Badge></Table.Td>
      <Table.Td>{(tenant.plugins ?? []).join(", ") || "—"}</Table.Td>
      <Table.Td>
        <Group gap="xs">
          <Select
            size="xs"
            aria-label={t("staff.plugin")}
            placeholder={t("staff.plugin")}
            data={plugins.filter((p) => !(tenant.plugins ?? []).includes(p.name)).map((p) => ({ value: p.name, label: named(p).title }))}
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
  const failing = useQuery({ queryKey: ["failing"], queryFn: () => unwrap(api.GET("/api/staff/events")), refetchInterval: 10000 });
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
      <Card withBorder>
        <Title order={3} size="h5">{t("staff.failing")}</Title>
        <QueryState query={failing} empty={t("staff.nothingFailing")} isEmpty={(list) => list.length === 0}>
          {(list) => <FailingEvents events={list} withTenant />}
        </QueryState>
      </Card>
    </Stack>
  );
}

function FailingEvents({ events, withTenant }: { events: Schemas["FailingEventOut"][]; withTenant: boolean }) {
  const { when } = useLocale();
  const { t } = useTranslation();
  return (
    <Table aria-label={t("staff.failing")}>
      <Table.Tbody>
        {events.map((event) => (
          <Table.Tr key={event.id} data-failing={event.id}>
            {withTenant && (
              <Table.Td>
                <Anchor component={Link} to={`/app/staff/tenants/${event.tenant_id}`}>{event.tenant_slug}</Anchor>
              </Table.Td>
            )}
            <Table.Td>{event.plugin ?? "—"}</Table.Td>
            <Table.Td><StatusBadge status={event.status} /></Table.Td>
            <Table.Td><Text size="sm" lineClamp={2}>{event.last_error ?? ""}</Text></Table.Td>
            <Table.Td><Text size="xs" c="dimmed">{when(event.received_at)}</Text></Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** One tenant: its plugins (configured or not, fed by how many URLs; uninstalling asks twice) and its failing events. */
export function StaffTenant() {
  const { named } = useLocale();
  const { t } = useTranslation();
  const { tenantId = "" } = useParams();
  const client = useQueryClient();
  const path = { params: { path: { tenant_id: tenantId } } };
  const tenant = useQuery({ queryKey: ["tenant", tenantId], queryFn: () => unwrap(api.GET("/api/staff/tenants/{tenant_id}", path)) });
  const installations = useQuery({
    queryKey: ["tenant-installations", tenantId],
    queryFn: () => unwrap(api.GET("/api/staff/tenants/{tenant_id}/installations", path)),
  });
  const failing = useQuery({
    queryKey: ["failing", tenantId],
    queryFn: () => unwrap(api.GET("/api/staff/events", { params: { query: { tenant_id: tenantId } } })),
  });
  const [confirming, setConfirming] = useState<string | null>(null);
  const uninstall = useMutation({
    mutationFn: (installationId: string) =>
      unwrap(api.DELETE("/api/staff/tenants/{tenant_id}/installations/{installation_id}", { params: { path: { tenant_id: tenantId, installation_id: installationId } } })),
    onSuccess: () => {
      setConfirming(null);
      void client.invalidateQueries({ queryKey: ["tenant-installations", tenantId] });
      void client.invalidateQueries({ queryKey: ["tenants"] });
    },
  });
  return (
    <Stack>
      <QueryState query={tenant}>
        {(found) => (
          <Group justify="space-between">
            <Title order={2}>{found.name}</Title>
            <Group gap="xs">
              <Text c="dimmed">{found.slug}</Text>
              <Badge color={found.status === "active" ? "green" : "orange"}>{t(`staff.status.${found.status}`)}</Badge>
            </Group>
          </Group>
        )}
      </QueryState>
      <Card withBorder>
        <Title order={3} size="h5">{t("nav.plugins")}</Title>
        <QueryState query={installations} empty={t("staff.noPlugins")} isEmpty={(list) => list.length === 0}>
          {(list) => (
            <Table aria-label={t("nav.plugins")}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("staff.plugin")}</Table.Th>
                  <Table.Th>{t("staff.configuration")}</Table.Th>
                  <Table.Th>{t("staff.urls")}</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((installation) => (
                  <Table.Tr key={installation.id} data-installation={installation.plugin}>
                    <Table.Td>{named(installation).title}</Table.Td>
                    <Table.Td>
                      <Badge color={installation.configured ? "green" : "orange"} variant="light">
                        {installation.configured ? t("staff.configured") : t("staff.notConfigured")}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{installation.endpoints}</Table.Td>
                    <Table.Td>
                      {confirming === installation.id ? (
                        <Group gap="xs">
                          <Button size="xs" color="red" loading={uninstall.isPending} onClick={() => uninstall.mutate(installation.id)}>
                            {t("staff.confirmUninstall", { plugin: named(installation).title })}
                          </Button>
                          <Button size="xs" variant="subtle" onClick={() => setConfirming(null)}>{t("common.cancel")}</Button>
                        </Group>
                      ) : (
                        <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(installation.id)}>{t("staff.uninstall")}</Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </QueryState>
        {uninstall.error && <Alert color="red" role="alert">{uninstall.error.message}</Alert>}
      </Card>
      <Card withBorder>
        <Title order={3} size="h5">{t("staff.failing")}</Title>
        <QueryState query={failing} empty={t("staff.nothingFailing")} isEmpty={(list) => list.length === 0}>
          {(list) => <FailingEvents events={list} withTenant={false} />}
        </QueryState>
      </Card>
      <Anchor component={Link} to="/app/staff">{t("staff.back")}</Anchor>
    </Stack>
  );
}
