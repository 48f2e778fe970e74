// The onboarding checklist: each step done or not, read from the workspace's live data.
import { Anchor, Badge, Card, Group, List, Stack, Text, ThemeIcon, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { QueryState } from "../components/States";

async function progress() {
  const [connections, endpoints, installations, events] = await Promise.all([
    unwrap(api.GET("/api/connections")),
    unwrap(api.GET("/api/endpoints")),
    unwrap(api.GET("/api/installations")),
    unwrap(api.GET("/api/events", { params: { query: { limit: 50 } } })),
  ]);
  const orderToLead = installations.find((i) => i.plugin === "order_to_lead");
  // Orders are what reaches order → lead through its webhook URLs.
  const urls = new Set(endpoints.filter((e) => orderToLead && e.installation_id === orderToLead.id).map((e) => e.id));
  const orders = events.items.filter((e) => e.endpoint_id !== null && urls.has(e.endpoint_id));
  return {
    connected: connections.some((c) => c.provider === "amocrm" && ["healthy", "expiring"].includes(c.status)),
    webhook: urls.size > 0,
    configured: !!orderToLead && "pipeline_id" in (orderToLead.config ?? {}),
    sent: orders.length > 0,
    lead: orders.some((e) => e.status === "done"),
  };
}

const STEPS = [
  { key: "connected", to: "/app/connections" },
  { key: "webhook", to: "/app/endpoints" },
  { key: "configured", to: "/app/plugins" },
  { key: "sent", to: "/app/endpoints" },
  { key: "lead", to: "/app/events" },
] as const;

export function Overview() {
  const { t } = useTranslation();
  const query = useQuery({ queryKey: ["onboarding"], queryFn: progress, refetchInterval: 5000, refetchOnMount: "always" });
  return (
    <Stack>
      <Title order={2}>{t("overview.title")}</Title>
      <Text c="dimmed">{t("overview.intro")}</Text>
      <QueryState query={query}>
        {(done) => (
          <Card withBorder>
            <List spacing="md" listStyleType="none" aria-label={t("overview.checklist")}>
              {STEPS.map((step, index) => (
                <List.Item
                  key={step.key}
                  data-step={step.key}
                  data-done={done[step.key]}
                  icon={
                    <ThemeIcon color={done[step.key] ? "green" : "gray"} radius="xl" size="md" aria-hidden>
                      {done[step.key] ? "✓" : index + 1}
                    </ThemeIcon>
                  }
                >
                  <Group gap="xs">
                    <Anchor component={Link} to={step.to}>
                      {t(`overview.steps.${step.key}.title`)}
                    </Anchor>
                    <Badge color={done[step.key] ? "green" : "gray"} variant="light">
                      {done[step.key] ? t("overview.done") : t("overview.todo")}
                    </Badge>
                  </Group>
                  <Text size="sm" c="dimmed">
                    {t(`overview.steps.${step.key}.hint`)}
                  </Text>
                </List.Item>
              ))}
            </List>
          </Card>
        )}
      </QueryState>
    </Stack>
  );
}
