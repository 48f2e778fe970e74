// The frame of every signed-in page: navigation, the workspace switcher, the language,
// and a banner while staff look at a workspace read-only.
import { Alert, Anchor, AppShell, Burger, Button, Group, NavLink, Select, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, Navigate, Outlet, useLocation, useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { type Account, useSession } from "../auth";
import { LanguageSwitch } from "./LanguageSwitch";
import { Loading } from "./States";

const PAGES = [
  { to: "/app", key: "overview" },
  { to: "/app/connections", key: "connections" },
  { to: "/app/endpoints", key: "endpoints" },
  { to: "/app/plugins", key: "plugins" },
  { to: "/app/events", key: "events" },
  { to: "/app/billing", key: "billing" },
  { to: "/app/members", key: "members" },
  { to: "/app/alerts", key: "alerts" },
  { to: "/app/audit", key: "audit" },
] as const;

export function Layout() {
  const { t } = useTranslation();
  const { account, loading, accept } = useSession();
  const [opened, { toggle }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  const switcher = useMutation({
    mutationFn: (workspace: string) => unwrap(api.POST("/api/auth/switch", { body: { workspace } })),
    onSuccess: (next) => {
      accept(next as unknown as Account);
      navigate("/app");
    },
  });
  const logout = useMutation({
    mutationFn: () => unwrap(api.POST("/api/auth/logout")),
    onSettled: () => {
      accept(null);
      navigate("/app/login");
    },
  });
  const endImpersonation = useMutation({
    mutationFn: () => unwrap(api.POST("/api/staff/impersonation/end")),
    onSuccess: async () => {
      accept((await unwrap(api.GET("/api/auth/me"))) as unknown as Account);
      navigate("/app/staff");
    },
  });
  if (loading) return <Loading />;
  if (!account) return <Navigate to="/app/login" replace state={{ from: location.pathname }} />;
  const workspaces = account.workspaces.map((w) => ({ value: w.slug, label: w.name }));
  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 230, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("nav.menu")} />
            <Title order={1} size="h3">Junction</Title>
            {account.impersonating ? (
              <Text fw={600} c="orange.9">{account.workspace_name}</Text>
            ) : workspaces.length > 0 && (
              <Select
                aria-label={t("nav.workspace")}
                data={workspaces}
                value={account.workspace}
                onChange={(slug) => slug && slug !== account.workspace && switcher.mutate(slug)}
                allowDeselect={false}
                w={220}
              />
            )}
          </Group>
          <Group>
            <LanguageSwitch />
            <Anchor component={Link} to="/app/account" size="sm" visibleFrom="sm" aria-label={t("account.link", { email: account.user.email })}>
              {account.user.email}
            </Anchor>
            <Button variant="subtle" onClick={() => logout.mutate()}>
              {t("nav.logOut")}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label={t("nav.main")}>
        {PAGES.map((page) => (
          <NavLink
            key={page.to}
            component={Link}
            to={page.to}
            label={t(`nav.${page.key}`)}
            active={page.to === "/app" ? location.pathname === "/app" : location.pathname.startsWith(page.to)}
          />
        ))}
        {account.user.staff && (
          <NavLink component={Link} to="/app/staff" label={t("nav.staff")} active={location.pathname.startsWith("/app/staff")} />
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        {account.impersonating && (
          <Alert color="orange" mb="md" role="status" title={t("staff.impersonatingTitle")}>
            <Group justify="space-between">
              <Text size="sm">{t("staff.impersonating", { workspace: account.workspace_name ?? account.workspace })}</Text>
              <Button size="xs" color="orange" onClick={() => endImpersonation.mutate()}>
                {t("staff.endImpersonation")}
              </Button>
            </Group>
          </Alert>
        )}
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
