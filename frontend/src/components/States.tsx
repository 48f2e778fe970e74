// Every list's loading, empty and error states, in one place.
import { Alert, Center, Loader, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";

export function Loading() {
  const { t } = useTranslation();
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Loader size="sm" aria-hidden />
      <Text size="sm" c="dimmed" ml="xs">
        {t("common.loading")}
      </Text>
    </Center>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return (
    <Text c="dimmed" py="md" role="status">
      {children}
    </Text>
  );
}

export function Failed({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Alert color="red" title={t("common.failed")} role="alert">
      {message}
      {error instanceof ApiError && error.status === 403 ? ` (${t("common.forbidden")})` : ""}
    </Alert>
  );
}

/** Loading, error or the content, for one query. */
export function QueryState<T>({
  query,
  empty,
  isEmpty,
  children,
}: {
  query: { isLoading: boolean; error: unknown; data: T | undefined };
  empty?: React.ReactNode;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => React.ReactNode;
}) {
  if (query.isLoading) return <Loading />;
  if (query.error) return <Failed error={query.error} />;
  if (query.data === undefined) return <Loading />;
  if (empty && isEmpty?.(query.data)) return <Empty>{empty}</Empty>;
  return <>{children(query.data)}</>;
}
