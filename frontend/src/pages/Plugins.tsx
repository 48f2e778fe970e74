// Installed plugins and their configuration: a form built from the plugin's config
// schema, with the connected account's values as lists to pick from, the field-mapping
// editor, and a preview of the exact requests a sample order would make.
import { Alert, Badge, Button, Card, Code, Group, JsonInput, NumberInput, Select, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { canManage, useSession } from "../auth";
import { QueryState } from "../components/States";

type Config = Record<string, unknown>;
type Choice = Schemas["ChoiceOut"];
type Property = { type?: string; title?: string; description?: string; anyOf?: { type?: string }[] };

export function Plugins() {
  const { t } = useTranslation();
  const installations = useQuery({ queryKey: ["installations"], queryFn: () => unwrap(api.GET("/api/installations")) });
  return (
    <Stack>
      <Title order={2}>{t("nav.plugins")}</Title>
      <QueryState query={installations} empty={t("plugins.none")} isEmpty={(list) => list.length === 0}>
        {(list) =>
          list.map((installation) => (
            <Card withBorder key={installation.id}>
              <Group justify="space-between">
                <Text fw={600}>{installation.plugin}</Text>
                <Group>
                  <Badge color={installation.enabled ? "green" : "gray"}>{installation.enabled ? t("alerts.on") : t("alerts.off")}</Badge>
                  <Button component={Link} to={`/app/plugins/${installation.id}`} size="xs" variant="light">
                    {t("plugins.configure")}
                  </Button>
                </Group>
              </Group>
            </Card>
          ))
        }
      </QueryState>
    </Stack>
  );
}

/** The simple fields the schema describes (numbers, text, yes/no), in its order. */
function simpleFields(schema: Record<string, unknown>): [string, Property][] {
  const properties = (schema.properties ?? {}) as Record<string, Property>;
  return Object.entries(properties).filter(([, p]) => {
    const types = p.type ? [p.type] : (p.anyOf ?? []).map((a) => a.type);
    return types.some((type) => type === "integer" || type === "string" || type === "boolean");
  });
}

function typeOf(p: Property): string {
  return p.type ?? (p.anyOf ?? []).map((a) => a.type).find((type) => type && type !== "null") ?? "string";
}

function Field({ name, property, value, choices, parentValue, onChange }: {
  name: string;
  property: Property;
  value: unknown;
  choices?: Choice[];
  parentValue?: unknown;
  onChange: (value: unknown) => void;
}) {
  const label = property.title ?? name;
  if (choices && choices.length > 0) {
    const shown = choices.filter((c) => c.parent === null || c.parent === undefined || parentValue === undefined || c.parent === parentValue);
    return (
      <Select
        label={label}
        description={property.description}
        data={shown.map((c) => ({ value: String(c.value), label: c.label }))}
        value={value === null || value === undefined ? null : String(value)}
        onChange={(picked) => onChange(picked === null ? null : typeOf(property) === "integer" ? Number(picked) : picked)}
        clearable={typeOf(property) !== "integer" || name.endsWith("user_id")}
        searchable
      />
    );
  }
  if (typeOf(property) === "boolean") {
    return <Switch label={label} description={property.description} checked={Boolean(value)} onChange={(e) => onChange(e.currentTarget.checked)} />;
  }
  if (typeOf(property) === "integer") {
    return <NumberInput label={label} description={property.description} value={(value as number) ?? ""} onChange={(v) => onChange(v === "" ? null : Number(v))} />;
  }
  return <TextInput label={label} description={property.description} value={(value as string) ?? ""} onChange={(e) => onChange(e.currentTarget.value)} />;
}

/** Order field → amoCRM lead field; a pair whose values cannot fit is refused here. */
function Mappings({ config, choices, onChange }: { config: Config; choices: Record<string, Choice[]>; onChange: (config: Config) => void }) {
  const { t } = useTranslation();
  const orderFields = choices.order_fields ?? [];
  const leadFields = choices.lead_fields ?? [];
  const amoFields = (config.amo_fields ?? {}) as Record<string, number>;
  const mappings = (config.mappings ?? {}) as Record<string, string>;
  const [source, setSource] = useState<string | null>(null);
  const [target, setTarget] = useState<string | null>(null);
  const fieldOf = (machine: string) => leadFields.find((f) => f.value === amoFields[machine]);
  const sourceChoice = orderFields.find((f) => f.value === source);
  const targetChoice = leadFields.find((f) => String(f.value) === target);
  const fitting = !sourceChoice || !targetChoice || !sourceChoice.fits || sourceChoice.fits.includes(targetChoice.kind ?? "");
  const add = () => {
    if (!source || !targetChoice || !fitting) return;
    const machine = `lead.cf.f${targetChoice.value}`;
    onChange({ ...config, amo_fields: { ...amoFields, [machine]: Number(targetChoice.value) }, mappings: { ...mappings, [source]: machine } });
    setSource(null);
    setTarget(null);
  };
  const remove = (orderField: string) => {
    const rest = { ...mappings };
    delete rest[orderField];
    onChange({ ...config, mappings: rest });
  };
  return (
    <Card withBorder>
      <Title order={3} size="h5">{t("plugins.mappings")}</Title>
      <Table aria-label={t("plugins.mappings")}>
        <Table.Tbody>
          {Object.entries(mappings).map(([orderField, machine]) => (
            <Table.Tr key={orderField} data-mapping={orderField}>
              <Table.Td>{orderField} <Badge size="xs" variant="light">{orderFields.find((f) => f.value === orderField)?.kind ?? "?"}</Badge></Table.Td>
              <Table.Td>→</Table.Td>
              <Table.Td>{fieldOf(machine)?.label ?? machine} <Badge size="xs" variant="light">{fieldOf(machine)?.kind ?? "?"}</Badge></Table.Td>
              <Table.Td><Button size="xs" variant="subtle" color="red" onClick={() => remove(orderField)}>{t("plugins.remove")}</Button></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group align="end" mt="sm">
        <Select label={t("plugins.orderField")} data={orderFields.map((f) => ({ value: String(f.value), label: `${f.label} (${f.kind})` }))} value={source} onChange={setSource} searchable />
        <Select label={t("plugins.leadField")} data={leadFields.map((f) => ({ value: String(f.value), label: `${f.label} (${f.kind})` }))} value={target} onChange={setTarget} searchable
          error={fitting ? undefined : t("plugins.doesNotFit", { kind: sourceChoice?.kind, type: targetChoice?.kind })} />
        <Button onClick={add} disabled={!source || !target || !fitting}>{t("plugins.addMapping")}</Button>
      </Group>
    </Card>
  );
}

function Preview({ installationId }: { installationId: string }) {
  const { t } = useTranslation();
  const [sample, setSample] = useState('{"id": "1001", "total": "150.00", "partner_id": "700100", "items": [{"sku": "A1", "name": "Widget", "quantity": 1, "price": "150"}]}');
  const preview = useMutation({
    mutationFn: () => unwrap(api.POST("/api/installations/{installation_id}/preview", { params: { path: { installation_id: installationId } }, body: { payload: JSON.parse(sample) } })),
  });
  return (
    <Card withBorder>
      <Title order={3} size="h5">{t("plugins.preview")}</Title>
      <JsonInput label={t("plugins.sample")} value={sample} onChange={setSample} autosize minRows={3} validationError={t("connections.notJson")} />
      <Button mt="sm" variant="light" loading={preview.isPending} onClick={() => preview.mutate()}>{t("plugins.showRequests")}</Button>
      {preview.error && <Alert color="red" mt="sm" role="alert">{preview.error.message}</Alert>}
      {preview.data && (
        <Stack mt="sm" gap="xs">
          {preview.data.problem && <Alert color="orange" role="status">{preview.data.problem}</Alert>}
          {preview.data.requests.map((request, index) => (
            <Code block key={index}>{`${String(request.method)} ${String(request.path)}${request.sent ? "  (sent: a read)" : ""}\n${JSON.stringify(request.json ?? request.params ?? {}, null, 2)}`}</Code>
          ))}
        </Stack>
      )}
    </Card>
  );
}

export function PluginConfig() {
  const { t } = useTranslation();
  const { installationId = "" } = useParams();
  const { account } = useSession();
  const client = useQueryClient();
  const form = useQuery({
    queryKey: ["form", installationId],
    queryFn: () => unwrap(api.GET("/api/installations/{installation_id}/form", { params: { path: { installation_id: installationId } } })),
  });
  const [config, setConfig] = useState<Config | null>(null);
  useEffect(() => {
    if (form.data && config === null) setConfig(form.data.config);
  }, [form.data, config]);
  const save = useMutation({
    mutationFn: (next: Config) =>
      unwrap(api.PUT("/api/installations/{installation_id}/config", { params: { path: { installation_id: installationId } }, body: { config: next } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["form", installationId] }),
  });
  return (
    <Stack>
      <QueryState query={form}>
        {(data) => {
          const current = config ?? data.config;
          const set = (name: string, value: unknown) => setConfig({ ...current, [name]: value });
          const choices = data.choices as Record<string, Choice[]>;
          return (
            <>
              <Title order={2}>{data.title}</Title>
              {data.choices_problem && <Alert color="orange" role="status">{t("plugins.noChoices", { problem: data.choices_problem })}</Alert>}
              <Card withBorder>
                <Stack>
                  {simpleFields(data.config_schema).map(([name, property]) => {
                    const parentField = choices[name]?.some((c) => c.parent !== null && c.parent !== undefined)
                      ? Object.keys(choices).find((other) => other !== name && choices[other].some((c) => choices[name].some((mine) => mine.parent === c.value)))
                      : undefined;
                    return (
                      <Field key={name} name={name} property={property} value={current[name]} choices={choices[name]}
                        parentValue={parentField ? current[parentField] : undefined} onChange={(value) => set(name, value)} />
                    );
                  })}
                </Stack>
              </Card>
              {choices.order_fields && <Mappings config={current} choices={choices} onChange={setConfig} />}
              {save.error && <Alert color="red" role="alert">{save.error.message}</Alert>}
              {save.isSuccess && <Alert color="green" role="status">{t("plugins.saved")}</Alert>}
              {canManage(account) && (
                <Group>
                  <Button loading={save.isPending} onClick={() => save.mutate(current)}>{t("plugins.save")}</Button>
                </Group>
              )}
              <Preview installationId={installationId} />
            </>
          );
        }}
      </QueryState>
    </Stack>
  );
}
