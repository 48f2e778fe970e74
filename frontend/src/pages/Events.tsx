// Events: a filterable list that updates by itself, each event's attempts with their
// logs, and replay of one or of every event the filter shows.
import { Alert, Badge, Button, Card, Code, Group, Progress, Select, Stack, Table, Text, TextInput, Timeline, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { QueryState } from "../components/States";
import { useLocale } from "../i18n/locale";

type Status = Schemas["EventStatus"];
const STATUSES: Status[] = ["received", "processing", "retrying", "done", "failed", "paused", "needs_review"];
const COLORS: Record<Status, string> = {
  received: "gray",
  processing: "blue",
  retrying: "yellow",
  done: "green",
  failed: "red",
  paused: "orange",
  needs_review: "grape",
};
const REPLAYABLE: Status[] = ["done", "failed", "paused"];

export function StatusBadge({ status }: { status: Status }) {
  const { t } = useTranslation();
  return (
    <Badge color={COLORS[status]} variant="light">
      {t(`events.status.${status}`)}
    </Badge>
  );
}

/** A replay followed until none of its events is waiting: how many went through, failed or paused. */
function ReplayProgress({ replay }: { replay: Schemas["ReplayResult"] }) {
  const { t } = useTranslation();
  const progress = useQuery({
    queryKey: ["replay", replay.replay_id],
    queryFn: () => unwrap(api.GET("/api/events/replays/{replay_id}", { params: { path: { replay_id: replay.replay_id } } })),
    refetchInterval: (query) => (query.state.data && query.state.data.pending === 0 ? false : 1500),
    enabled: replay.replayed > 0,
  });
  if (replay.replayed === 0) {
    return <Alert color="gray" role="status">{t("events.nothingToReplay")}</Alert>;
  }
  const state = progress.data;
  const total = Math.max(state?.total ?? replay.replayed, 1);
  const part = (count: number) => (count * 100) / total;
  return (
    <Alert color={state && state.pending === 0 ? (state.failed > 0 ? "orange" : "green") : "blue"} role="status" data-replay={replay.replay_id}>
      <Stack gap="xs">
        <Text size="sm">
          {state && state.pending === 0
            ? t("events.replayFinished", { done: state.done, failed: state.failed + state.needs_review, paused: state.paused })
            : t("events.replaying", { count: replay.replayed, pending: state?.pending ?? replay.replayed })}
        </Text>
        <Progress.Root size="lg">
          <Progress.Section value={part(state?.done ?? 0)} color="green" aria-label={t("events.status.done")} />
          <Progress.Section value={part((state?.failed ?? 0) + (state?.needs_review ?? 0))} color="red" aria-label={t("events.status.failed")} />
          <Progress.Section value={part(state?.paused ?? 0)} color="orange" aria-label={t("events.status.paused")} />
        </Progress.Root>
      </Stack>
    </Alert>
  );
}

export function Events() {
  const { when } = useLocale();
  const { t } = useTranslation();
  const { account } = useSession();
  const client = useQueryClient();
  const [params] = useSearchParams();
  const [status, setStatus] = useState<Status | null>(STATUSES.find((s) => s === params.get("status")) ?? null);
  const [endpoint, setEndpoint] = useState<string | null>(null);
  const [key, setKey] = useState("");
  const endpoints = useQuery({ queryKey: ["endpoints"], queryFn: () => unwrap(api.GET("/api/endpoints")) });
  const filter = { status: status ?? undefined, endpoint_id: endpoint ?? undefined };
  const query = useQuery({
    queryKey: ["events", status, endpoint, key],
    queryFn: () => unwrap(api.GET("/api/events", { params: { query: { ...filter, key: key.trim() || undefined, limit: 100 } } })),
    refetchInterval: 3000,
  });
  const replay = useMutation({
    mutationFn: () => unwrap(api.POST("/api/events/replay", { body: filter })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["events"] }),
  });
  return (
    <Stack>
      <Title order={2}>{t("nav.events")}</Title>
      <Group align="end">
        <Select
          label={t("events.filterStatus")}
          placeholder={t("events.any")}
          clearable
          value={status}
          onChange={(value) => setStatus(value as Status | null)}
          data={STATUSES.map((s) => ({ value: s, label: t(`events.status.${s}`) }))}
        />
        <Select
          label={t("events.filterEndpoint")}
          placeholder={t("events.any")}
          clearable
          value={endpoint}
          onChange={setEndpoint}
          data={(endpoints.data ?? []).map((e) => ({ value: e.id, label: e.name }))}
        />
        <TextInput label={t("events.filterKey")} value={key} onChange={(e) => setKey(e.currentTarget.value)} />
        {canManage(account) && status && REPLAYABLE.includes(status) && (
          <Button variant="light" loading={replay.isPending} onClick={() => replay.mutate()}>
            {t("events.replayAll")}
          </Button>
        )}
      </Group>
      {replay.data && <ReplayProgress key={replay.data.replay_id} replay={replay.data} />}
      {replay.error && <Alert color="red" role="alert">{replay.error.message}</Alert>}
      <QueryState query={query} empty={t("events.none")} isEmpty={(page) => page.items.length === 0}>
        {(page) => (
          <Table striped highlightOnHover aria-label={t("nav.events")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("events.received")}</Table.Th>
                <Table.Th>{t("events.statusColumn")}</Table.Th>
                <Table.Th>{t("events.attempts")}</Table.Th>
                <Table.Th>{t("events.error")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {page.items.map((event) => (
                <Table.Tr key={event.id} data-event={event.id}>
                  <Table.Td>
                    <Link to={`/app/events/${event.id}`}>{when(event.received_at)}</Link>
                  </Table.Td>
                  <Table.Td><StatusBadge status={event.status} /></Table.Td>
                  <Table.Td>{event.attempts}</Table.Td>
                  <Table.Td><Text size="sm" lineClamp={2}>{event.last_error ?? ""}</Text></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </Stack>
  );
}

export function EventDetail() {
  const { when } = useLocale();
  const { t } = useTranslation();
  const { eventId = "" } = useParams();
  const { account } = useSession();
  const client = useQueryClient();
  const query = useQuery({
    queryKey: ["event", eventId],
    queryFn: () => unwrap(api.GET("/api/events/{event_id}", { params: { path: { event_id: eventId } } })),
    refetchInterval: 3000,
  });
  const replay = useMutation({
    mutationFn: () => unwrap(api.POST("/api/events/{event_id}/replay", { params: { path: { event_id: eventId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["event", eventId] }),
  });
  return (
    <Stack>
      <Title order={2}>{t("events.detail")}</Title>
      <QueryState query={query}>
        {(event) => (
          <>
            <Group>
              <StatusBadge status={event.status} />
              <Text size="sm">{event.idempotency_key}</Text>
              {event.pause_cause && <Badge color="orange">{t(`events.pause.${event.pause_cause}`)}</Badge>}
              {canManage(account) && REPLAYABLE.includes(event.status) && (
                <Button size="xs" loading={replay.isPending} onClick={() => replay.mutate()}>
                  {t("events.replay")}
                </Button>
              )}
            </Group>
            {event.last_error && <Alert color="red" role="alert">{event.last_error}</Alert>}
            <Card withBorder>
              <Title order={3} size="h5">{t("events.attemptLog")}</Title>
              <Timeline bulletSize={18} lineWidth={2} mt="sm">
                {event.attempt_log.map((attempt) => (
                  <Timeline.Item key={attempt.number} title={`#${attempt.number} · ${t(`events.outcome.${attempt.outcome ?? "running"}`)}`}>
                    <Text size="xs" c="dimmed">{when(attempt.started_at)}</Text>
                    {attempt.error && <Text size="sm" c="red">{attempt.error}</Text>}
                    {attempt.log.map((entry, index) => (
                      <Text key={index} size="sm">
                        [{String(entry.level)}] {String(entry.message)}
                      </Text>
                    ))}
                  </Timeline.Item>
                ))}
              </Timeline>
            </Card>
            {event.result && (
              <Card withBorder>
                <Title order={3} size="h5">{t("events.result")}</Title>
                <Code block tabIndex={0}>{JSON.stringify(event.result, null, 2)}</Code>
              </Card>
            )}
            <Card withBorder>
              <Title order={3} size="h5">{t("events.payload")}</Title>
              <Code block tabIndex={0}>{JSON.stringify(event.payload, null, 2)}</Code>
            </Card>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
