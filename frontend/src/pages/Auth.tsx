// Signing up, confirming the email, logging in, resetting a password.
import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { type Account, useSession } from "../auth";
import { LanguageSwitch } from "../components/LanguageSwitch";
import { showServerError } from "../components/forms";

const MIN_PASSWORD = 10;

function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={420} component="main">
        <Stack>
          <Title order={1} size="h2">
            {title}
          </Title>
          {children}
          <LanguageSwitch />
        </Stack>
      </Paper>
    </Center>
  );
}

function useEmailRule() {
  const { t } = useTranslation();
  return (value: string) => (/^\S+@\S+\.\S+$/.test(value) ? null : t("auth.emailInvalid"));
}

export function LogIn() {
  const { t } = useTranslation();
  const { accept } = useSession();
  const navigate = useNavigate();
  const email = useEmailRule();
  const form = useForm({
    initialValues: { email: "", password: "" },
    validate: { email, password: (v) => (v ? null : t("auth.passwordRequired")) },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const [params] = useSearchParams();
  // Back to the page that asked for a log-in (an invitation's link), never off the app.
  const next = params.get("next") ?? "";
  const login = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/auth/login", { body: values })),
    onSuccess: (account) => {
      accept(account as unknown as Account);
      navigate(next.startsWith("/app/") ? next : "/app");
    },
    onError: (error) => setFailure(showServerError(form, error)),
  });
  return (
    <Card title={t("auth.logInTitle")}>
      <form onSubmit={form.onSubmit((values) => login.mutate(values))} noValidate>
        <Stack>
          <TextInput label={t("auth.email")} type="email" autoComplete="email" required {...form.getInputProps("email")} />
          <PasswordInput label={t("auth.password")} autoComplete="current-password" required {...form.getInputProps("password")} />
          {failure && <Alert color="red" role="alert">{failure}</Alert>}
          <Button type="submit" loading={login.isPending}>
            {t("auth.logIn")}
          </Button>
        </Stack>
      </form>
      <Text size="sm">
        <Anchor component={Link} to="/app/signup">{t("auth.noAccount")}</Anchor>
        {" · "}
        <Anchor component={Link} to="/app/forgot-password">{t("auth.forgot")}</Anchor>
      </Text>
    </Card>
  );
}

export function SignUp() {
  const { t } = useTranslation();
  const email = useEmailRule();
  const form = useForm({
    initialValues: { email: "", password: "", workspace: "" },
    validate: {
      email,
      password: (v) => (v.length >= MIN_PASSWORD ? null : t("auth.passwordShort", { count: MIN_PASSWORD })),
      workspace: (v) => (v.trim() ? null : t("auth.workspaceRequired")),
    },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const signup = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/auth/signup", { body: values })),
    onError: (error) => setFailure(showServerError(form, error)),
  });
  if (signup.isSuccess) {
    return (
      <Card title={t("auth.checkEmailTitle")}>
        <Text role="status">{t("auth.checkEmail", { email: form.values.email })}</Text>
        <Anchor component={Link} to="/app/login">{t("auth.logIn")}</Anchor>
      </Card>
    );
  }
  return (
    <Card title={t("auth.signUpTitle")}>
      <form onSubmit={form.onSubmit((values) => signup.mutate(values))} noValidate>
        <Stack>
          <TextInput label={t("auth.workspace")} description={t("auth.workspaceHint")} required {...form.getInputProps("workspace")} />
          <TextInput label={t("auth.email")} type="email" autoComplete="email" required {...form.getInputProps("email")} />
          <PasswordInput label={t("auth.password")} description={t("auth.passwordShort", { count: MIN_PASSWORD })} autoComplete="new-password" required {...form.getInputProps("password")} />
          {failure && <Alert color="red" role="alert">{failure}</Alert>}
          <Button type="submit" loading={signup.isPending}>
            {t("auth.signUp")}
          </Button>
        </Stack>
      </form>
      <Anchor component={Link} to="/app/login" size="sm">{t("auth.haveAccount")}</Anchor>
    </Card>
  );
}

/** A page an emailed link opens: it spends the link's token once and says how it went. */
function LinkPage({ title, done, spend }: { title: string; done: string; spend: (token: string) => Promise<unknown> }) {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const use = useMutation({ mutationFn: spend });
  const token = params.get("token") ?? "";
  useEffect(() => {
    if (token) use.mutate(token);
    // Once per link.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);
  return (
    <Card title={title}>
      {use.isPending && <Text role="status">{t("common.loading")}</Text>}
      {use.isSuccess && (
        <Alert color="green" role="status">
          {done}
        </Alert>
      )}
      {(use.isError || !token) && (
        <Alert color="red" role="alert">
          {use.error instanceof Error ? use.error.message : t("auth.linkInvalid")}
        </Alert>
      )}
      <Button component={Link} to="/app/login">
        {t("auth.logIn")}
      </Button>
    </Card>
  );
}

export function VerifyEmail() {
  const { t } = useTranslation();
  return <LinkPage title={t("auth.verifyTitle")} done={t("auth.verified")} spend={(token) => unwrap(api.POST("/api/auth/verify-email", { body: { token } }))} />;
}

export function ConfirmEmailChange() {
  const { t } = useTranslation();
  return (
    <LinkPage title={t("auth.emailChangeTitle")} done={t("auth.emailChanged")}
      spend={(token) => unwrap(api.POST("/api/auth/email-change/confirm", { body: { token } }))} />
  );
}

/** An invitation's link: a signed-in person joins the workspace; anyone else logs in first and comes back. */
export function AcceptInvitation() {
  const { t } = useTranslation();
  const { account, accept } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const join = useMutation({
    mutationFn: () => unwrap(api.POST("/api/invitations/accept", { body: { token } })),
    onSuccess: async () => {
      accept((await unwrap(api.GET("/api/auth/me"))) as unknown as Account);
      navigate("/app");
    },
  });
  const here = `/app/accept-invitation?token=${encodeURIComponent(token)}`;
  return (
    <Card title={t("auth.invitationTitle")}>
      {!token && <Alert color="red" role="alert">{t("auth.linkInvalid")}</Alert>}
      {token && account && (
        <>
          <Text>{t("auth.invitationAs", { email: account.user.email })}</Text>
          {join.error && <Alert color="red" role="alert">{join.error.message}</Alert>}
          <Button loading={join.isPending} onClick={() => join.mutate()}>{t("auth.join")}</Button>
        </>
      )}
      {token && !account && (
        <>
          <Text>{t("auth.invitationLogIn")}</Text>
          <Button component={Link} to={`/app/login?next=${encodeURIComponent(here)}`}>{t("auth.logIn")}</Button>
          <Anchor component={Link} to="/app/signup" size="sm">{t("auth.noAccount")}</Anchor>
        </>
      )}
    </Card>
  );
}

export function ForgotPassword() {
  const { t } = useTranslation();
  const email = useEmailRule();
  const form = useForm({ initialValues: { email: "" }, validate: { email } });
  const reset = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/auth/password-reset", { body: values })),
  });
  return (
    <Card title={t("auth.forgotTitle")}>
      {reset.isSuccess ? (
        <Text role="status">{t("auth.resetSent", { email: form.values.email })}</Text>
      ) : (
        <form onSubmit={form.onSubmit((values) => reset.mutate(values))} noValidate>
          <Stack>
            <TextInput label={t("auth.email")} type="email" required {...form.getInputProps("email")} />
            <Button type="submit" loading={reset.isPending}>
              {t("auth.sendReset")}
            </Button>
          </Stack>
        </form>
      )}
      <Anchor component={Link} to="/app/login" size="sm">{t("auth.logIn")}</Anchor>
    </Card>
  );
}

export function ResetPassword() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const form = useForm({
    initialValues: { password: "" },
    validate: { password: (v) => (v.length >= MIN_PASSWORD ? null : t("auth.passwordShort", { count: MIN_PASSWORD })) },
  });
  const [failure, setFailure] = useState<string | null>(null);
  const confirm = useMutation({
    mutationFn: (values: typeof form.values) =>
      unwrap(api.POST("/api/auth/password-reset/confirm", { body: { token: params.get("token") ?? "", ...values } })),
    onSuccess: () => navigate("/app/login"),
    onError: (error) => setFailure(showServerError(form, error)),
  });
  return (
    <Card title={t("auth.resetTitle")}>
      <form onSubmit={form.onSubmit((values) => confirm.mutate(values))} noValidate>
        <Stack>
          <PasswordInput label={t("auth.newPassword")} autoComplete="new-password" required {...form.getInputProps("password")} />
          {failure && <Alert color="red" role="alert">{failure}</Alert>}
          <Button type="submit" loading={confirm.isPending}>
            {t("auth.setPassword")}
          </Button>
        </Stack>
      </form>
    </Card>
  );
}
