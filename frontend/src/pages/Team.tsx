// Members and their roles, and the workspace's audit log.
import { Alert, Button, Card, Code, Group, Select, Stack, Table, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap } from "../api/client";
import { canManage, useSession } from "../auth";
import { showServerError } from "../components/forms";
import { QueryState } from "../components/States";

const ROLES = ["owner", "admin", "viewer"] as const;

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
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((member) => (
                <Table.Tr key={member.user_id}>
                  <Table.Td>{member.email}</Table.Td>
                  <Table.Td>{t(`members.roles.${member.role}`)}</Table.Td>
                </Table.Tr>
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
    </Stack>
  );
}

export function Audit() {
  const { t } = useTranslation();
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
                  <Table.Td>{new Date(entry.created_at).toLocaleString()}</Table.Td>
                  <Table.Td>{entry.actor_type}</Table.Td>
                  <Table.Td>{entry.action}</Table.Td>
                  <Table.Td><Code>{JSON.stringify(entry.diff)}</Code></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </Stack>
  );
}
