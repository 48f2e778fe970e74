// A form for any plugin's configuration, built from its JSON schema (as pydantic writes
// it): text, numbers, yes/no, one-of lists, tags, nested groups and name → value tables.
// The connected systems' values (`choices`, by the setting's dotted path) become lists to
// pick from; labels come from the schema, in the reader's language where it has them.
import {
  Accordion,
  ActionIcon,
  Autocomplete,
  Badge,
  Button,
  Fieldset,
  Group,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Schemas } from "../api/client";
import { useLocale } from "../i18n/locale";

export type Choice = Schemas["ChoiceOut"];
export type Choices = Record<string, Choice[]>;
export type Config = Record<string, unknown>;
export type Errors = Record<string, string>;

type Words = { title?: string; description?: string; key?: string; value?: string; options?: Record<string, string> };

export interface SchemaNode {
  $ref?: string;
  $defs?: Record<string, SchemaNode>;
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: (string | number)[];
  const?: string | number | boolean;
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  "x-i18n"?: Record<string, Words>;
  "x-widget"?: string;
  "x-advanced"?: boolean;
}

/** The node with its `$ref` followed and `X | None` unwrapped, and whether null is allowed. */
export function resolve(node: SchemaNode, root: SchemaNode): { node: SchemaNode; nullable: boolean } {
  const follow = (n: SchemaNode): SchemaNode => {
    const ref = n.$ref ?? (n.allOf?.length === 1 ? n.allOf[0].$ref : undefined);
    if (!ref) return n;
    const target = root.$defs?.[ref.split("/").pop() ?? ""] ?? {};
    // What the property says of itself (title, default …) outranks the shared definition.
    const { $ref: _ref, allOf: _allOf, ...own } = n;
    return { ...follow(target), ...own };
  };
  const followed = follow(node);
  const options = followed.anyOf ?? [];
  const real = options.filter((o) => o.type !== "null");
  if (options.length > 0 && real.length === 1) {
    const { anyOf: _anyOf, ...own } = followed;
    return { node: { ...follow(real[0]), ...own }, nullable: real.length < options.length };
  }
  return { node: followed, nullable: false };
}

export function words(node: SchemaNode, language: string): Words {
  const mine = node["x-i18n"]?.[language] ?? {};
  const english = node["x-i18n"]?.en ?? {};
  return {
    title: mine.title ?? node.title,
    description: mine.description ?? node.description,
    key: mine.key ?? english.key,
    value: mine.value ?? english.value,
    options: mine.options ?? english.options,
  };
}

function kindOf(node: SchemaNode): "choice" | "group" | "table" | "list" | "boolean" | "number" | "text" {
  if (node.enum) return "choice";
  if (node.type === "object") return node.properties ? "group" : "table";
  if (node.type === "array") return "list";
  if (node.type === "boolean") return "boolean";
  if (node.type === "integer" || node.type === "number") return "number";
  return "text";
}

export function at(config: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((value, part) => (value && typeof value === "object" ? (value as Config)[part] : undefined), config);
}

function setAt(config: Config, path: string, value: unknown): Config {
  const [head, ...rest] = path.split(".");
  if (rest.length === 0) {
    const next = { ...config };
    if (value === undefined) delete next[head];
    else next[head] = value;
    return next;
  }
  const inner = (config[head] && typeof config[head] === "object" ? config[head] : {}) as Config;
  return { ...config, [head]: setAt(inner, rest.join("."), value) };
}

/** Every setting's path, as the form shows them (used to place the server's errors). */
function paths(node: SchemaNode, root: SchemaNode, prefix = ""): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, property]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    const { node: inner } = resolve(property, root);
    return kindOf(inner) === "group" ? [path, ...paths(inner, root, path)] : [path];
  });
}

/** The values with the schema's constants (a form's `mode: "manual"`) filled in. */
export function withConstants(schema: SchemaNode, config: Config): Config {
  const constants = Object.entries(schema.properties ?? {}).filter(([, property]) => property.const !== undefined);
  return { ...config, ...Object.fromEntries(constants.map(([name, property]) => [name, property.const])) };
}

/** What the browser can tell before asking the server: required settings, bounds, lengths. */
export function validate(schema: SchemaNode, config: Config, t: (key: string, options?: Record<string, unknown>) => string): Errors {
  const errors: Errors = {};
  const visit = (node: SchemaNode, value: Config, prefix: string) => {
    for (const [name, property] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      const { node: inner, nullable } = resolve(property, schema);
      const own = value[name];
      if (inner.const !== undefined) continue;
      const empty = own === undefined || own === null || own === "";
      if (empty) {
        if ((node.required ?? []).includes(name) && !nullable) {
          if (kindOf(inner) === "group") visit(inner, {}, path);
          else errors[path] = t("common.required");
        }
        continue;
      }
      if (typeof own === "number") {
        if (inner.exclusiveMinimum !== undefined && own <= inner.exclusiveMinimum) errors[path] = t("form.above", { limit: inner.exclusiveMinimum });
        if (inner.minimum !== undefined && own < inner.minimum) errors[path] = t("form.atLeast", { limit: inner.minimum });
        if (inner.maximum !== undefined && own > inner.maximum) errors[path] = t("form.atMost", { limit: inner.maximum });
      }
      if (typeof own === "string" && inner.maxLength !== undefined && own.length > inner.maxLength) errors[path] = t("form.tooLong", { limit: inner.maxLength });
      if (typeof own === "string" && inner.minLength !== undefined && own.length < inner.minLength) errors[path] = t("form.tooShort", { limit: inner.minLength });
      if (Array.isArray(own) && inner.maxItems !== undefined && own.length > inner.maxItems) errors[path] = t("form.tooMany", { limit: inner.maxItems });
      if (kindOf(inner) === "group" && typeof own === "object") visit(inner, own as Config, path);
    }
  };
  visit(schema, config, "");
  return errors;
}

/**
 * The server's refusal (`path: what is wrong; other.path: …`) split onto the settings it
 * names; what names no setting is returned apart, to be shown above the form.
 */
export function placeErrors(schema: SchemaNode, message: string): { errors: Errors; rest: string[] } {
  const known = paths(schema, schema).sort((a, b) => b.length - a.length);
  const errors: Errors = {};
  const rest: string[] = [];
  const body = message.replace(/^invalid config for plugin '[^']*': /, "");
  for (const part of body.split("; ")) {
    let text = part.replace(/^\(config\): /, "").replace(/^Value error, /, "");
    const named = /^([\w.]+): (.+)$/s.exec(text);
    const path = named ? named[1] : "";
    const owner = known.find((candidate) => path === candidate || path.startsWith(`${candidate}.`));
    if (!named || !owner) {
      rest.push(text);
      continue;
    }
    text = path === owner ? named[2] : `${path.slice(owner.length + 1)}: ${named[2]}`;
    errors[owner] = errors[owner] ? `${errors[owner]}; ${text}` : text;
  }
  return { errors, rest };
}

interface FormProps {
  schema: SchemaNode;
  config: Config;
  choices: Choices;
  errors: Errors;
  onChange: (config: Config) => void;
}

/** The settings of `node` (the schema itself, or a group): plain ones first, then groups and tables. */
function Settings({ node, prefix, form }: { node: SchemaNode; prefix: string; form: FormProps }) {
  const entries = Object.entries(node.properties ?? {}).map(([name, property]) => {
    const { node: inner, nullable } = resolve(property, form.schema);
    return { name, inner, nullable, path: prefix ? `${prefix}.${name}` : name };
  });
  // A constant is not asked for: it is sent as it is (`withConstants`).
  const asked = entries.filter((e) => e.inner.const === undefined);
  const nested = (e: (typeof entries)[number]) => ["group", "table"].includes(kindOf(e.inner));
  const ordered = [...asked.filter((e) => !nested(e)), ...asked.filter(nested)];
  const shown = (list: typeof entries) =>
    list.map((e) => <Setting key={e.path} path={e.path} node={e.inner} nullable={e.nullable} required={(node.required ?? []).includes(e.name)} form={form} />);
  const common = ordered.filter((e) => !e.inner["x-advanced"]);
  const advanced = ordered.filter((e) => e.inner["x-advanced"]);
  return (
    <Stack>
      {shown(common)}
      {advanced.length > 0 && <Advanced paths={advanced.map((e) => e.path)} form={form}>{shown(advanced)}</Advanced>}
    </Stack>
  );
}

/** Settings most never change, folded; opened by itself when one of them has an error. */
function Advanced({ paths: inside, form, children }: { paths: string[]; form: FormProps; children: React.ReactNode }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<string | null>(null);
  const erring = Object.keys(form.errors).some((path) => inside.some((p) => path === p || path.startsWith(`${p}.`)));
  return (
    <Accordion variant="contained" value={erring ? "advanced" : open} onChange={setOpen}>
      <Accordion.Item value="advanced">
        <Accordion.Control>{t("form.advanced")}</Accordion.Control>
        <Accordion.Panel>
          <Stack>{children}</Stack>
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}

export function SchemaForm(props: FormProps) {
  return <Settings node={props.schema} prefix="" form={props} />;
}

function Setting({ path, node, nullable, required, form }: { path: string; node: SchemaNode; nullable: boolean; required: boolean; form: FormProps }) {
  const { language } = useLocale();
  const said = words(node, language);
  const label = said.title ?? path.split(".").pop();
  const stored = at(form.config, path);
  const value = stored === undefined ? node.default : stored;
  const set = (next: unknown) => form.onChange(setAt(form.config, path, next));
  const common = { label, description: said.description, error: form.errors[path], withAsterisk: required && !nullable };
  const choices = form.choices[path];
  if (choices && choices.length > 0) {
    return <ChoiceSetting path={path} node={node} nullable={nullable} choices={choices} value={value} onChange={set} common={common} form={form} />;
  }
  switch (kindOf(node)) {
    case "choice":
      return (
        <Select {...common} data={(node.enum ?? []).map((option) => ({ value: String(option), label: said.options?.[String(option)] ?? String(option) }))} value={value === undefined || value === null ? null : String(value)}
          onChange={(picked) => set(picked ?? undefined)} clearable={nullable} allowDeselect={nullable} />
      );
    case "group":
      return (
        <Fieldset legend={label} data-setting={path}>
          {said.description && <Text size="sm" c="dimmed" mb="xs">{said.description}</Text>}
          {form.errors[path] && <Text size="sm" c="red" role="alert" mb="xs">{form.errors[path]}</Text>}
          <Settings node={node} prefix={path} form={form} />
        </Fieldset>
      );
    case "table":
      return <TableSetting path={path} node={node} label={label ?? path} said={said} value={(value ?? {}) as Config} onChange={set} form={form} />;
    case "list":
      return <TagsInput {...common} value={(value as string[] | undefined) ?? []} onChange={set} clearable />;
    case "boolean":
      return <Switch label={label} description={said.description} error={form.errors[path]} checked={Boolean(value)} onChange={(e) => set(e.currentTarget.checked)} />;
    case "number":
      return (
        <NumberInput {...common} value={(value as number | undefined) ?? ""} allowDecimal={node.type === "number"}
          onChange={(v) => set(v === "" ? (nullable ? null : undefined) : Number(v))} />
      );
    default: {
      const text = (value as string | null | undefined) ?? "";
      const change = (next: string) => set(next === "" && nullable ? null : next);
      if (node["x-widget"] === "password") {
        return <PasswordInput {...common} value={text} onChange={(e) => change(e.currentTarget.value)} autoComplete="off" />;
      }
      return node["x-widget"] === "textarea" ? (
        <Textarea {...common} value={text} onChange={(e) => change(e.currentTarget.value)} autosize minRows={3} />
      ) : (
        <TextInput {...common} value={text} onChange={(e) => change(e.currentTarget.value)} />
      );
    }
  }
}

type Common = { label?: string; description?: string; error?: string; withAsterisk: boolean };

/** Free text with suggestions when each choice is its own label; otherwise a list to pick from. */
function suggestsOnly(choices: Choice[]): boolean {
  return choices.every((c) => String(c.value) === c.label);
}

function listData(choices: Choice[], current: unknown, t: (key: string) => string) {
  const items = choices.map((c) => ({ value: String(c.value), label: c.kind ? `${c.label} · ${c.kind}` : c.label, group: c.group ?? "" }));
  if (current !== undefined && current !== null && current !== "" && !items.some((item) => item.value === String(current))) {
    items.push({ value: String(current), label: String(current), group: "" });
  }
  const groups = [...new Set(items.map((item) => item.group))];
  if (groups.length <= 1) return items.map(({ value, label }) => ({ value, label }));
  return groups.map((group) => ({
    group: t(`form.group.${group || "other"}`),
    items: items.filter((item) => item.group === group).map(({ value, label }) => ({ value, label })),
  }));
}

function ChoiceSetting({ path, node, nullable, choices, value, onChange, common, form }: {
  path: string; node: SchemaNode; nullable: boolean; choices: Choice[]; value: unknown; onChange: (value: unknown) => void; common: Common; form: FormProps;
}) {
  const { t } = useTranslation();
  if (suggestsOnly(choices)) {
    return <Autocomplete {...common} data={choices.map((c) => c.label)} value={(value as string | undefined) ?? ""} onChange={(v) => onChange(v === "" && nullable ? null : v)} />;
  }
  // A choice that belongs to another (a stage to its pipeline) is offered under the one picked there.
  const parents = choices.some((c) => c.parent !== null && c.parent !== undefined);
  const parentPath = parents
    ? Object.keys(form.choices).find((other) => other !== path && form.choices[other].some((o) => choices.some((c) => c.parent === o.value)))
    : undefined;
  const parentValue = parentPath ? at(form.config, parentPath) : undefined;
  const shown = parentPath ? choices.filter((c) => c.parent === parentValue) : choices;
  const current = parentPath && !shown.some((c) => c.value === value) ? null : value;
  return (
    <Select {...common} data={listData(shown, parentPath ? undefined : current, t)} searchable clearable={nullable} allowDeselect={nullable}
      value={current === undefined || current === null ? null : String(current)}
      onChange={(picked) => onChange(picked === null ? (nullable ? null : undefined) : node.type === "integer" ? Number(picked) : picked)} />
  );
}

/** A name → value table (`mappings`, `amo_fields`): rows shown with what they are, one added at a time. */
function TableSetting({ path, node, label, said, value, onChange, form }: {
  path: string; node: SchemaNode; label: string; said: Words; value: Config; onChange: (value: unknown) => void; form: FormProps;
}) {
  const { t } = useTranslation();
  const keys = form.choices[`${path}.key`] ?? [];
  const values = form.choices[`${path}.value`] ?? [];
  const valueNode = typeof node.additionalProperties === "object" ? resolve(node.additionalProperties, form.schema).node : {};
  const [key, setKey] = useState("");
  const [entry, setEntry] = useState<string | null>(null);
  const keyChoice = keys.find((c) => String(c.value) === key);
  const valueChoice = values.find((c) => String(c.value) === entry);
  const fits = !keyChoice?.fits || !valueChoice?.kind || keyChoice.fits.includes(valueChoice.kind);
  const keyLabel = said.key ?? t("form.name");
  const valueLabel = said.value ?? t("form.value");
  const add = () => {
    if (!key || entry === null || entry === "" || !fits) return;
    onChange({ ...value, [key]: valueNode.type === "integer" ? Number(entry) : entry });
    setKey("");
    setEntry(null);
  };
  const remove = (name: string) => {
    const rest = { ...value };
    delete rest[name];
    onChange(rest);
  };
  const described = (stored: unknown) => {
    const known = values.find((c) => String(c.value) === String(stored));
    return known ? (
      <>
        {known.label} {known.kind && <Badge size="xs" variant="light">{known.kind}</Badge>}
      </>
    ) : (
      String(stored)
    );
  };
  const rows = Object.entries(value);
  return (
    <Fieldset legend={label} data-setting={path}>
      {said.description && <Text size="sm" c="dimmed" mb="xs">{said.description}</Text>}
      {rows.length > 0 && (
        <Table aria-label={label} mb="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{keyLabel}</Table.Th>
              <Table.Th>{valueLabel}</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map(([name, stored]) => (
              <Table.Tr key={name} data-row={name}>
                <Table.Td>
                  {name} {keys.find((c) => c.value === name)?.kind && <Badge size="xs" variant="light">{keys.find((c) => c.value === name)?.kind}</Badge>}
                </Table.Td>
                <Table.Td>{described(stored)}</Table.Td>
                <Table.Td>
                  <ActionIcon variant="subtle" color="red" aria-label={t("form.removeRow", { name })} onClick={() => remove(name)}>×</ActionIcon>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {form.errors[path] && <Text size="sm" c="red" role="alert" mb="xs">{form.errors[path]}</Text>}
      <Group align="end" wrap="wrap">
        {keys.length > 0 ? (
          <Autocomplete label={keyLabel} data={keys.map((c) => c.label)} value={key} onChange={setKey} />
        ) : (
          <TextInput label={keyLabel} value={key} onChange={(e) => setKey(e.currentTarget.value)} />
        )}
        {values.length > 0 ? (
          <Select label={valueLabel} data={listData(values, undefined, t)} value={entry} onChange={setEntry} searchable
            error={fits ? undefined : t("form.doesNotFit", { kind: keyChoice?.kind, type: valueChoice?.kind })} />
        ) : valueNode.type === "integer" ? (
          <NumberInput label={valueLabel} value={entry ?? ""} onChange={(v) => setEntry(v === "" ? null : String(v))} allowDecimal={false} />
        ) : (
          <TextInput label={valueLabel} value={entry ?? ""} onChange={(e) => setEntry(e.currentTarget.value)} />
        )}
        <Button variant="light" onClick={add} disabled={!key || entry === null || entry === "" || !fits}>
          {t("form.add")}
        </Button>
      </Group>
    </Fieldset>
  );
}
