// The plan, the period's usage, choosing a plan (Stripe Checkout), the portal, invoices.
import { Alert, Badge, Button, Card, Group, Progress, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { useSession } from "../auth";
import { QueryState } from "../components/States";
import { useLocale } from "../i18n/locale";

export function Billing() {
  const { t } = useTranslation();
  const { money } = useLocale();
  const { account } = useSession();
  const owner = account?.role === "owner" && !account.impersonating;
  const client = useQueryClient();
  // Back from Checkout: Stripe's word that it was paid follows within seconds.
  const [params] = useSearchParams();
  const checkout = params.get("checkout");
  const billing = useQuery({
    queryKey: ["billing"],
    queryFn: () => unwrap(api.GET("/api/billing")),
    // The meter follows the events as they are processed.
    refetchInterval: (query) => (checkout === "done" && query.state.data?.source !== "subscription" ? 2000 : 5000),
  });
  const plans = useQuery({
    queryKey: ["plans"],
    queryFn: () => unwrap(api.GET("/api/billing/plans")),
    enabled: billing.data?.enabled === true,
  });
  const choose = useMutation({
    mutationFn: (plan: string) => unwrap(api.POST("/api/billing/plan", { body: { plan } })),
    onSuccess: (chosen) => {
      if (chosen.checkout_url) window.location.assign(chosen.checkout_url);
      else void client.invalidateQueries({ queryKey: ["billing"] });
    },
  });
  const portal = useMutation({
    mutationFn: () => unwrap(api.POST("/api/billing/portal")),
    onSuccess: (answer) => window.location.assign(answer.url),
  });
  return (
    <Stack>
      <Title order={2}>{t("nav.billing")}</Title>
      {checkout === "done" && billing.data?.enabled && (
        billing.data.source === "subscription" ? (
          <Alert color="green" role="status">{t("billing.paid", { plan: billing.data.plan?.name })}</Alert>
        ) : (
          <Alert color="blue" role="status">{t("billing.confirming")}</Alert>
        )
      )}
      {checkout === "canceled" && <Alert color="gray" role="status">{t("billing.canceled")}</Alert>}
      <QueryState query={billing}>
        {(state) =>
          !state.enabled ? (
            <Alert color="blue" role="status">{t("billing.off")}</Alert>
          ) : (
            <>
              <Card withBorder>
                <Group justify="space-between">
                  <div>
                    <Text size="sm" c="dimmed">{t("billing.plan")}</Text>
                    <Title order={3}>{state.plan?.name}</Title>
                  </div>
                  {state.subscription?.status && (
                    <Badge color={["active", "trialing"].includes(state.subscription.status) ? "green" : "orange"}>
                      {t(`billing.status.${state.subscription.status}`, { defaultValue: state.subscription.status })}
                    </Badge>
                  )}
                </Group>
                {state.usage && (
                  <Stack gap={4} mt="md">
                    <Text size="sm">
                      {state.usage.quota === null
                        ? t("billing.usedUnlimited", { used: state.usage.used })
                        : t("billing.used", { used: state.usage.used, quota: state.usage.quota })}
                    </Text>
                    {state.usage.quota !== null && (
                      <Progress
                        value={Math.min(100, Math.round((100 * state.usage.used) / Math.max(state.usage.quota, 1)))}
                        color={state.usage.used >= state.usage.quota ? "red" : "blue"}
                        aria-label={t("billing.usage")}
                      />
                    )}
                  </Stack>
                )}
                {state.blocked && <Alert color="red" mt="md" role="alert">{state.blocked}</Alert>}
                {(state.paused_events.quota > 0 || state.paused_events.billing > 0) && (
                  <Alert color="orange" mt="md" role="status">
                    {t("billing.paused", { count: state.paused_events.quota + state.paused_events.billing })}
                  </Alert>
                )}
                {owner && state.subscription && (
                  <Button mt="md" variant="light" loading={portal.isPending} onClick={() => portal.mutate()}>
                    {t("billing.portal")}
                  </Button>
                )}
              </Card>
              {choose.error && <Alert color="red" role="alert">{choose.error.message}</Alert>}
              <QueryState query={plans}>
                {(list) => (
                  <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
                    {list.map((plan) => (
                      <Card withBorder key={plan.key} data-plan={plan.key}>
                        <Group justify="space-between" gap="xs">
                          <Title order={4}>{plan.name}</Title>
                          {plan.key === state.plan?.key && <Badge variant="light">{t("billing.current")}</Badge>}
                        </Group>
                        {!plan.purchasable && <Text fw={600}>{t("billing.noCharge")}</Text>}
                        {plan.price && (
                          <Text fw={600}>
                            {t(`billing.per.${plan.price.interval}`, {
                              count: plan.price.interval_count,
                              price: money(plan.price.amount, plan.price.currency),
                              defaultValue: money(plan.price.amount, plan.price.currency),
                            })}
                          </Text>
                        )}
                        <Text size="sm">
                          {plan.monthly_events === null ? t("billing.unlimited") : t("billing.events", { count: plan.monthly_events })}
                        </Text>
                        {plan.trial_days > 0 && <Text size="xs" c="dimmed">{t("billing.trial", { count: plan.trial_days })}</Text>}
                        {owner && plan.purchasable && plan.key !== state.plan?.key && (
                          <Button mt="sm" size="xs" loading={choose.isPending} onClick={() => choose.mutate(plan.key)}>
                            {t("billing.choose")}
                          </Button>
                        )}
                      </Card>
                    ))}
                  </SimpleGrid>
                )}
              </QueryState>
              {owner && <Invoices />}
            </>
          )
        }
      </QueryState>
    </Stack>
  );
}

function Invoices() {
  const { day, money } = useLocale();
  const { t } = useTranslation();
  const invoices = useQuery({ queryKey: ["invoices"], queryFn: () => unwrap(api.GET("/api/billing/invoices")) });
  return (
    <Card withBorder>
      <Title order={3} size="h5">{t("billing.invoices")}</Title>
      <QueryState query={invoices} empty={t("billing.noInvoices")} isEmpty={(list) => list.length === 0}>
        {(list) => (
          <Table aria-label={t("billing.invoices")}>
            <Table.Tbody>
              {list.map((invoice) => (
                <Table.Tr key={invoice.id}>
                  <Table.Td>{invoice.created ? day(invoice.created) : ""}</Table.Td>
                  <Table.Td>{invoice.status && t(`billing.invoiceStatus.${invoice.status}`, { defaultValue: invoice.status })}</Table.Td>
                  <Table.Td>{invoice.currency ? money(invoice.amount_due ?? 0, invoice.currency) : ""}</Table.Td>
                  <Table.Td>{invoice.hosted_invoice_url && <a href={invoice.hosted_invoice_url}>{t("billing.open")}</a>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </Card>
  );
}
