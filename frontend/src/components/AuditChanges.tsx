// An audit entry's change, readable: one line per setting that changed, down to the
// nested setting (a plugin's whole configuration is stored, one mapping may differ).
import { Code, Spoiler, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

/** A setting that changed (`from` → `to`, either absent as undefined), or, without `from`,
 * a fact the entry only notes (a reason given). */
export interface Change {
  path: string;
  from?: unknown;
  to?: unknown;
}

type Plain = Record<string, unknown>;

const isPlain = (value: unknown): value is Plain => typeof value === "object" && value !== null && !Array.isArray(value);
const isFromTo = (value: unknown): value is { from: unknown; to: unknown } =>
  isPlain(value) && Object.keys(value).sort().join() === "from,to";
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function leaves(path: string, from: unknown, to: unknown, out: Change[]) {
  const fromPlain = isPlain(from) || from === null || from === undefined;
  const toPlain = isPlain(to) || to === null || to === undefined;
  if ((isPlain(from) || isPlain(to)) && fromPlain && toPlain) {
    const a = isPlain(from) ? from : {};
    const b = isPlain(to) ? to : {};
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!same(a[key], b[key])) leaves(`${path}.${key}`, a[key], b[key], out);
    }
    return;
  }
  out.push({ path, from, to });
}

/** `{field: {from, to}}` (or `{field: value}` for what was only noted) as changed leaves. */
export function auditChanges(diff: Plain): Change[] {
  const out: Change[] = [];
  for (const [key, value] of Object.entries(diff)) {
    if (isFromTo(value)) leaves(key, value.from, value.to, out);
    else out.push({ path: key, to: value });
  }
  return out;
}

const shown = (value: unknown) => (value === null || value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value));

export function AuditChanges({ diff }: { diff: Plain }) {
  const { t } = useTranslation();
  const changes = auditChanges(diff);
  if (changes.length === 0) return null;
  return (
    <Spoiler maxHeight={120} showLabel={t("audit.more")} hideLabel={t("audit.less")}>
      <Stack gap={2}>
        {changes.map((change) => (
          <Text size="sm" key={change.path} style={{ overflowWrap: "anywhere" }}>
            <Code>{change.path}</Code>{" "}
            {"from" in change ? `${shown(change.from)} → ${shown(change.to)}` : shown(change.to)}
          </Text>
        ))}
      </Stack>
    </Spoiler>
  );
}
