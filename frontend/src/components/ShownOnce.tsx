// A secret the server gives out once (a key, a signing secret), with a copy button.
import { Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

export function ShownOnce({ note, value, testId }: { note?: string; value: string; testId: string }) {
  const { t } = useTranslation();
  return (
    <Stack gap={4}>
      {note && <Text size="sm">{note}</Text>}
      <Group wrap="nowrap">
        <Code block tabIndex={0} style={{ flex: 1 }} data-testid={testId}>{value}</Code>
        <CopyButton value={value}>
          {({ copied, copy }) => <Button size="xs" variant="light" onClick={copy}>{copied ? t("endpoints.copied") : t("endpoints.copy")}</Button>}
        </CopyButton>
      </Group>
    </Stack>
  );
}
