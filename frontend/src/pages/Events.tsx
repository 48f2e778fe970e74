// Events: a filterable list that updates by itself, each event's attempts with their
// logs, and replay of one or of every event the filter shows.
import { Alert, Badge, Button, Card, Code, Group, Select, Stack, Table, Text, Timeline, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { QueryState } from "../components/States";

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

export function Events() {
  const { t } = useTranslation();
  const { account } = useSession();
  const client = useQueryClient();
  const [status, setStatus] = useState<Status | null>(null);
  const query = useQuery({
    queryKey: ["events", status],
    queryFn: () => unwrap(api.GET("/api/events", { params: { query: { status: status ?? undefined, limit: 100 } } })),
    refetchInterval: 3000,
  });
  const replay = useMutation({
    mutationFn: () => unwrap(api.POST("/api/events/replay", { body: { status: status ?? undefined } })),
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
        {canManage(account) && status && REPLAYABLE.includes(status) && (
          <Button variant="light" loading={replay.isPending} onClick={() => replay.mutate()}>
            {t("events.replayAll")}
          </Button>
        )}
      </Group>
      {replay.isSuccess && (
        <Alert color="blue" role="status">
          {t("events.replayed", { count: replay.data.replayed })}
        </Alert>
      )}
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
                    <Link to={`/app/events/${event.id}`}>{new Date(event.received_at).toLocaleString()}</Link>
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
                    <Text size="xs" c="dimmed">{new Date(attempt.started_at).toLocaleString()}</Text>
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
                <Code block>{JSON.stringify(event.result, null, 2)}</Code>
              </Card>
            )}
            <Card withBorder>
              <Title order={3} size="h5">{t("events.payload")}</Title>
              <Code block>{JSON.stringify(event.payload, null, 2)}</Code>
            </Card>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
