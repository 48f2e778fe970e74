// Installed plugins and their configuration: a form built from the plugin's config
// schema, with the connected account's values as lists to pick from, the field-mapping
// editor, and a preview of the exact requests a sample order would make.
import { Alert, Badge, Button, Card, Code, Group, JsonInput, Select, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { api, ApiError, unwrap } from "../api/client";
import { canManage, useSession } from "../auth";
import { placeErrors, SchemaForm, validate, type Choices, type Config, type Errors, type SchemaNode } from "../components/SchemaForm";
import { QueryState } from "../components/States";
import { useLocale } from "../i18n/locale";


export function Plugins() {
  const { named } = useLocale();
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
                <div>
                  <Text fw={600}>{named(installation).title}</Text>
                  <Text size="sm" c="dimmed">{named(installation).description}</Text>
                </div>
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

/** A sample as the preview takes it: the delivery's body parsed (JSON, or form fields). */
function parsedSample(sample: { body: string; content_type: string }): string {
  const parsed = sample.content_type.includes("json") ? JSON.parse(sample.body) : Object.fromEntries(new URLSearchParams(sample.body));
  return JSON.stringify(parsed, null, 2);
}

function Preview({ installationId }: { installationId: string }) {
  const { named } = useLocale();
  const { t } = useTranslation();
  const formats = useQuery({ queryKey: ["formats"], queryFn: () => unwrap(api.GET("/api/endpoints/formats")) });
  const endpoints = useQuery({ queryKey: ["endpoints"], queryFn: () => unwrap(api.GET("/api/endpoints")) });
  const withSamples = (formats.data ?? []).filter((f) => f.sample);
  // The format of this plugin's own webhook URL, unless another is picked.
  const own = endpoints.data?.find((e) => e.installation_id === installationId)?.source_format;
  const [picked, setPicked] = useState<string | null>(null);
  const format = picked ?? (withSamples.some((f) => f.name === own) ? own : withSamples[0]?.name) ?? null;
  const [sample, setSample] = useState<string | null>(null);
  const chosen = withSamples.find((f) => f.name === format);
  const shown = sample ?? (chosen?.sample ? parsedSample(chosen.sample) : "{}");
  const preview = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/installations/{installation_id}/preview", {
          params: { path: { installation_id: installationId } },
          body: { payload: JSON.parse(shown), source_format: format ?? undefined },
        }),
      ),
  });
  return (
    <Card withBorder>
      <Title order={3} size="h5">{t("plugins.preview")}</Title>
      <Select label={t("endpoints.format")} data={withSamples.map((f) => ({ value: f.name, label: named(f).title }))} value={format}
        onChange={(value) => { setPicked(value); setSample(null); }} allowDeselect={false} />
      <JsonInput label={t("plugins.sample")} value={shown} onChange={setSample} autosize minRows={3} maxRows={16} validationError={t("connections.notJson")} mt="sm" />
      <Button mt="sm" variant="light" loading={preview.isPending} onClick={() => preview.mutate()}>{t("plugins.showRequests")}</Button>
      {preview.error && <Alert color="red" mt="sm" role="alert">{preview.error.message}</Alert>}
      {preview.data && (
        <Stack mt="sm" gap="xs">
          {preview.data.problem && <Alert color="orange" role="status">{preview.data.problem}</Alert>}
          {preview.data.requests.map((request, index) => (
            <Code block tabIndex={0} key={index}>{`${String(request.method)} ${String(request.path)}${request.sent ? `  (${t("plugins.sentRead")})` : ""}\n${JSON.stringify(request.json ?? request.params ?? {}, null, 2)}`}</Code>
          ))}
        </Stack>
      )}
    </Card>
  );
}

export function PluginConfig() {
  const { named } = useLocale();
  const { t } = useTranslation();
  const { installationId = "" } = useParams();
  const { account } = useSession();
  const client = useQueryClient();
  const form = useQuery({
    queryKey: ["form", installationId],
    queryFn: () => unwrap(api.GET("/api/installations/{installation_id}/form", { params: { path: { installation_id: installationId } } })),
  });
  const [config, setConfig] = useState<Config | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [problems, setProblems] = useState<string[]>([]);
  useEffect(() => {
    if (form.data && config === null) setConfig(form.data.config);
  }, [form.data, config]);
  const save = useMutation({
    mutationFn: (next: Config) =>
      unwrap(api.PUT("/api/installations/{installation_id}/config", { params: { path: { installation_id: installationId } }, body: { config: next } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["form", installationId] }),
    onError: (error) => {
      const schema = form.data?.config_schema as SchemaNode | undefined;
      if (error instanceof ApiError && error.field === "config" && schema) {
        const placed = placeErrors(schema, error.message);
        setErrors(placed.errors);
        setProblems(placed.rest);
      } else {
        setProblems([error.message]);
      }
    },
  });
  return (
    <Stack>
      <QueryState query={form}>
        {(data) => {
          const current = config ?? data.config;
          const schema = data.config_schema as SchemaNode;
          const submit = () => {
            const found = validate(schema, current, t);
            setErrors(found);
            setProblems([]);
            if (Object.keys(found).length === 0) save.mutate(current);
          };
          return (
            <>
              <Title order={2}>{named(data).title}</Title>
              {data.choices_problem && <Alert color="orange" role="status">{t("plugins.noChoices", { problem: data.choices_problem })}</Alert>}
              <form
                noValidate
                onSubmit={(e) => {
                  e.preventDefault();
                  submit();
                }}
              >
                <Card withBorder>
                  <Stack>
                    <SchemaForm schema={schema} config={current} choices={data.choices as Choices} errors={errors} onChange={setConfig} />
                    {Object.keys(errors).length > 0 && <Alert color="red" role="alert">{t("form.fix")}</Alert>}
                    {problems.map((problem) => (
                      <Alert color="red" role="alert" key={problem}>{problem}</Alert>
                    ))}
                    {save.isSuccess && !save.isPending && <Alert color="green" role="status">{t("plugins.saved")}</Alert>}
                    {canManage(account) && (
                      <Group>
                        <Button type="submit" loading={save.isPending}>{t("plugins.save")}</Button>
                      </Group>
                    )}
                  </Stack>
                </Card>
              </form>
              <Preview installationId={installationId} />
            </>
          );
        }}
      </QueryState>
    </Stack>
  );
}
