// Members and their roles, keys for programs, and the workspace's audit log.
import { Alert, Badge, Button, Card, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { showServerError } from "../components/forms";
import { QueryState } from "../components/States";
import { ShownOnce } from "../components/ShownOnce";
import { useLocale } from "../i18n/locale";
import { AuditChanges } from "../components/AuditChanges";

const ROLES = ["owner", "admin", "viewer"] as const;

/** A member: their role changed, or taken out of the workspace after a second click; one's own row offers leaving. */
function MemberRow({ member, manage, self }: { member: Schemas["MemberOut"]; manage: boolean; self: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const path = { params: { path: { user_id: member.user_id } } };
  const refresh = () => client.invalidateQueries({ queryKey: ["members"] });
  const role = useMutation({
    mutationFn: (next: (typeof ROLES)[number]) => unwrap(api.PUT("/api/members/{user_id}", { ...path, body: { role: next } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/members/{user_id}", path)),
    onSuccess: () => {
      setConfirming(false);
      if (self) window.location.assign("/app");
      else void refresh();
    },
  });
  const error = role.error ?? remove.error;
  return (
    <Table.Tr data-member={member.email}>
      <Table.Td>{member.email}</Table.Td>
      <Table.Td>
        {manage && !self ? (
          <Select size="xs" w={140} aria-label={t("members.roleOf", { email: member.email })} allowDeselect={false}
            data={ROLES.map((r) => ({ value: r, label: t(`members.roles.${r}`) }))} value={member.role}
            onChange={(next) => next && role.mutate(next as (typeof ROLES)[number])} />
        ) : (
          t(`members.roles.${member.role}`)
        )}
        {error && <Text size="xs" c="red" role="alert">{error.message}</Text>}
      </Table.Td>
      <Table.Td>
        {(manage || self) &&
          (confirming ? (
            <Group gap="xs">
              <Button size="xs" color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
                {self ? t("members.confirmLeave") : t("members.confirmRemove", { email: member.email })}
              </Button>
              <Button size="xs" variant="subtle" onClick={() => setConfirming(false)}>{t("common.cancel")}</Button>
            </Group>
          ) : (
            <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(true)}>
              {self ? t("members.leave") : t("members.remove")}
            </Button>
          ))}
      </Table.Td>
    </Table.Tr>
  );
}

/** Keys a program calls the API with (`Authorization: Bearer …`): the key shown once. */
function ApiKeys() {
  const { t } = useTranslation();
  const { when } = useLocale();
  const { account } = useSession();
  const client = useQueryClient();
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => unwrap(api.GET("/api/api-keys")) });
  const refresh = () => client.invalidateQueries({ queryKey: ["api-keys"] });
  const roles = ROLES.filter((r) => r !== "owner" || account?.role === "owner");
  const form = useForm({
    initialValues: { name: "", role: "viewer" as (typeof ROLES)[number] },
    validate: { name: (v) => (v.trim() ? null : t("common.required")) },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/api-keys", { body: { name: values.name.trim(), role: values.role } })),
    onSuccess: () => {
      form.reset();
      setFailure(null);
      void refresh();
    },
    onError: (error) => setFailure(showServerError(form, error)),
  });
  const [confirming, setConfirming] = useState<string | null>(null);
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: () => {
      setConfirming(null);
      void refresh();
    },
  });
  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h5">{t("keys.title")}</Title>
        <Text size="sm" c="dimmed">{t("keys.intro")}</Text>
        <QueryState query={keys} empty={t("keys.none")} isEmpty={(list) => list.length === 0}>
          {(list) => (
            <Table aria-label={t("keys.title")}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("keys.name")}</Table.Th>
                  <Table.Th>{t("members.role")}</Table.Th>
                  <Table.Th>{t("keys.lastUsed")}</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((key) => (
                  <Table.Tr key={key.id} data-key={key.name}>
                    <Table.Td>
                      <Text size="sm" fw={600}>{key.name}</Text>
                      <Text size="xs" c="dimmed">{key.prefix}…</Text>
                    </Table.Td>
                    <Table.Td>{t(`members.roles.${key.role}`)}</Table.Td>
                    <Table.Td>{key.last_used_at ? when(key.last_used_at) : t("keys.neverUsed")}</Table.Td>
                    <Table.Td>
                      {key.revoked_at ? (
                        <Badge color="gray">{t("keys.revoked")}</Badge>
                      ) : confirming === key.id ? (
                        <Group gap="xs">
                          <Button size="xs" color="red" loading={revoke.isPending} onClick={() => revoke.mutate(key.id)}>{t("keys.confirmRevoke", { name: key.name })}</Button>
                          <Button size="xs" variant="subtle" onClick={() => setConfirming(null)}>{t("common.cancel")}</Button>
                        </Group>
                      ) : (
                        <Button size="xs" variant="subtle" color="red" onClick={() => setConfirming(key.id)}>{t("keys.revoke")}</Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </QueryState>
        {revoke.error && <Alert color="red" role="alert">{revoke.error.message}</Alert>}
        <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
          <Group align="end">
            <TextInput label={t("keys.name")} required {...form.getInputProps("name")} />
            <Select label={t("keys.role")} data={roles.map((r) => ({ value: r, label: t(`members.roles.${r}`) }))} allowDeselect={false} {...form.getInputProps("role")} />
            <Button type="submit" loading={create.isPending}>{t("keys.create")}</Button>
          </Group>
          {failure && <Alert color="red" mt="sm" role="alert">{failure}</Alert>}
        </form>
        {create.data && <ShownOnce note={t("keys.once")} value={create.data.key} testId="new-api-key" />}
      </Stack>
    </Card>
  );
}

export function Members() {
  const { t } = useTranslation();
  const { account } = useSession();
  const client = useQueryClient();
  const members = useQuery({ queryKey: ["members"], queryFn: () => unwrap(api.GET("/api/members")) });
  const form = useForm({
    initialValues: { email: "", role: "viewer" as (typeof ROLES)[number] },
    validate: { email: (v) => (/^\S+@\S+\.\S+$/.test(v) ? null : t("auth.emailInvalid")) },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/members/invitations", { body: values })),
    onSuccess: () => {
      form.reset();
      void client.invalidateQueries({ queryKey: ["members"] });
    },
    onError: (error) => setFailure(showServerError(form, error)),
  });
  return (
    <Stack>
      <Title order={2}>{t("nav.members")}</Title>
      <QueryState query={members} empty={t("members.none")} isEmpty={(list) => list.length === 0}>
        {(list) => (
          <Table aria-label={t("nav.members")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("auth.email")}</Table.Th>
                <Table.Th>{t("members.role")}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((member) => (
                <MemberRow key={member.user_id} member={member} manage={canManage(account)} self={member.user_id === account?.user.id} />
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      {canManage(account) && (
        <Card withBorder>
          <form onSubmit={form.onSubmit((values) => invite.mutate(values))} noValidate>
            <Group align="end">
              <TextInput label={t("members.inviteEmail")} type="email" required {...form.getInputProps("email")} />
              <Select label={t("members.role")} data={ROLES.map((r) => ({ value: r, label: t(`members.roles.${r}`) }))} {...form.getInputProps("role")} />
              <Button type="submit" loading={invite.isPending}>{t("members.invite")}</Button>
            </Group>
            {invite.isSuccess && <Alert color="green" mt="sm" role="status">{t("members.invited")}</Alert>}
            {failure && <Alert color="red" mt="sm" role="alert">{failure}</Alert>}
          </form>
        </Card>
      )}
      {canManage(account) && <ApiKeys />}
    </Stack>
  );
}

export function Audit() {
  const { when } = useLocale();
  const { t } = useTranslation();
  const who = (entry: Schemas["AuditOut"]) => {
    if (entry.actor_type === "api_key") return t("audit.apiKey", { name: entry.actor ?? "?" });
    if (entry.actor_type === "user") return entry.actor ?? t("audit.user");
    return t(`audit.${entry.actor_type}`);
  };
  const audit = useQuery({ queryKey: ["audit"], queryFn: () => unwrap(api.GET("/api/audit")) });
  return (
    <Stack>
      <Title order={2}>{t("nav.audit")}</Title>
      <QueryState query={audit} empty={t("audit.none")} isEmpty={(list) => list.length === 0}>
        {(list) => (
          <Table aria-label={t("nav.audit")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("audit.when")}</Table.Th>
                <Table.Th>{t("audit.who")}</Table.Th>
                <Table.Th>{t("audit.what")}</Table.Th>
                <Table.Th>{t("audit.change")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((entry) => (
                <Table.Tr key={entry.id}>
                  <Table.Td>{when(entry.created_at)}</Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{who(entry)}</Table.Td>
                  <Table.Td>{t(`audit.actions.${entry.action}`, { defaultValue: entry.action })}</Table.Td>
                  <Table.Td><AuditChanges diff={entry.diff} /></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </Stack>
  );
}
