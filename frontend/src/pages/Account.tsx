// The signed-in person's own account: their email, their password, their sessions.
import { Alert, Button, Card, Group, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { useSession } from "../auth";
import { showServerError } from "../components/forms";

export function Account() {
  const { t } = useTranslation();
  const { account, accept } = useSession();
  const navigate = useNavigate();
  const email = account?.user.email ?? "";
  const readOnly = account?.impersonating ?? false;
  const form = useForm({
    initialValues: { new_email: "", password: "" },
    validate: {
      new_email: (v) => (/^\S+@\S+\.\S+$/.test(v.trim()) ? (v.trim().toLowerCase() === email.toLowerCase() ? t("account.sameEmail") : null) : t("auth.emailInvalid")),
      password: (v) => (v ? null : t("auth.passwordRequired")),
    },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/auth/email-change", { body: { new_email: values.new_email.trim(), password: values.password } })),
    onSuccess: () => {
      form.setFieldValue("password", "");
      setFailure(null);
    },
    onError: (error) => setFailure(showServerError(form, error)),
  });
  const reset = useMutation({ mutationFn: () => unwrap(api.POST("/api/auth/password-reset", { body: { email } })) });
  const everywhere = useMutation({
    mutationFn: () => unwrap(api.POST("/api/auth/logout-everywhere")),
    onSuccess: () => {
      accept(null);
      navigate("/app/login");
    },
  });
  return (
    <Stack>
      <Title order={2}>{t("account.title")}</Title>
      <Card withBorder>
        <form onSubmit={form.onSubmit((values) => change.mutate(values))} noValidate>
          <Stack>
            <Title order={3} size="h5">{t("account.email")}</Title>
            <Text size="sm">{t("account.current", { email })}</Text>
            <Group align="flex-start" grow>
              <TextInput label={t("account.newEmail")} type="email" required disabled={readOnly} {...form.getInputProps("new_email")} />
              <PasswordInput label={t("account.password")} description={t("account.passwordHint")} required disabled={readOnly} {...form.getInputProps("password")} />
            </Group>
            {change.isSuccess && <Alert color="green" role="status">{t("account.linkSent", { email: change.variables?.new_email.trim() })}</Alert>}
            {failure && <Alert color="red" role="alert">{failure}</Alert>}
            <Group>
              <Button type="submit" disabled={readOnly} loading={change.isPending}>{t("account.changeEmail")}</Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <Card withBorder>
        <Stack align="flex-start">
          <Title order={3} size="h5">{t("account.passwordTitle")}</Title>
          <Text size="sm" c="dimmed">{t("account.passwordIntro")}</Text>
          <Button variant="light" disabled={readOnly} loading={reset.isPending} onClick={() => reset.mutate()}>{t("account.sendReset")}</Button>
          {reset.isSuccess && <Alert color="green" role="status">{t("account.resetSent", { email })}</Alert>}
          {reset.error && <Alert color="red" role="alert">{reset.error.message}</Alert>}
        </Stack>
      </Card>
      <Card withBorder>
        <Stack align="flex-start">
          <Title order={3} size="h5">{t("account.sessions")}</Title>
          <Text size="sm" c="dimmed">{t("account.sessionsIntro")}</Text>
          <Button variant="light" color="red" disabled={readOnly} loading={everywhere.isPending} onClick={() => everywhere.mutate()}>{t("account.logOutEverywhere")}</Button>
          {everywhere.error && <Alert color="red" role="alert">{everywhere.error.message}</Alert>}
        </Stack>
      </Card>
    </Stack>
  );
}
