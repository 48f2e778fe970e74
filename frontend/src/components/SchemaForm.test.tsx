import { MantineProvider } from "@mantine/core";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, expect, test } from "vitest";
import i18n from "../i18n";
import { placeErrors, SchemaForm, validate, type Choices, type Config, type Errors, type SchemaNode } from "./SchemaForm";

// Shaped as pydantic writes a plugin's config schema: a nested model under $defs, an
// optional setting as anyOf with null, name → value tables as additionalProperties.
const schema: SchemaNode = {
  $defs: {
    Partner: {
      type: "object",
      properties: {
        contact_field: { type: "string", title: "Contact field" },
        when_missing: {
          enum: ["fail", "no_contact"],
          type: "string",
          title: "When missing",
          default: "fail",
          "x-i18n": { en: { options: { fail: "Fail the order", no_contact: "No contact" } } },
        },
      },
      required: ["contact_field"],
    },
  },
  type: "object",
  properties: {
    pipeline_id: { type: "integer", exclusiveMinimum: 0, title: "Pipeline", "x-i18n": { ru: { title: "Воронка" } } },
    status_id: { type: "integer", exclusiveMinimum: 0, title: "Stage" },
    responsible_user_id: { anyOf: [{ type: "integer" }, { type: "null" }], default: null, title: "Responsible user" },
    tags: { type: "array", items: { type: "string" }, maxItems: 2, title: "Tags" },
    partner: { $ref: "#/$defs/Partner", title: "Partner's contact" },
    cache_seconds: { type: "integer", minimum: 0, title: "Cache", "x-advanced": true },
    mappings: {
      type: "object",
      additionalProperties: { type: "string" },
      title: "Field mapping",
      "x-i18n": { en: { key: "Order field", value: "amoCRM field" } },
    },
  },
  required: ["pipeline_id", "status_id", "partner"],
};

const choices: Choices = {
  pipeline_id: [
    { value: 1, label: "Sales" },
    { value: 2, label: "Wholesale" },
  ],
  status_id: [
    { value: 11, label: "New", parent: 1 },
    { value: 21, label: "Incoming", parent: 2 },
  ],
  "mappings.key": [
    { value: "total", label: "total", kind: "number", fits: ["numeric", "text"] },
    { value: "created_at", label: "created_at", kind: "date", fits: ["date", "text"] },
  ],
  "mappings.value": [
    { value: "lead.cf.5", label: "Order date", kind: "date", group: "lead" },
    { value: "contact.cf.7", label: "Note", kind: "text", group: "contact" },
  ],
};

let latest: Config = {};

function Form({ errors = {} }: { errors?: Errors }) {
  const [config, setConfig] = useState<Config>({});
  latest = config;
  return (
    <MantineProvider env="test">
      <SchemaForm schema={schema} config={config} choices={choices} errors={errors} onChange={setConfig} />
    </MantineProvider>
  );
}

afterEach(() => void i18n.changeLanguage("en"));

test("a nested group and its defaults are shown, and stages follow the pipeline picked", async () => {
  render(<Form />);
  const partner = screen.getByRole("group", { name: "Partner's contact" });
  expect(within(partner).getByLabelText(/Contact field/, { selector: "input" })).toBeTruthy();
  expect((within(partner).getByLabelText(/^When missing/, { selector: "input" }) as HTMLInputElement).value).toBe("Fail the order");
  await userEvent.click(screen.getByLabelText(/Pipeline/, { selector: "input" }));
  await userEvent.click(await screen.findByRole("option", { name: "Wholesale" }));
  await userEvent.click(screen.getByLabelText(/Stage/, { selector: "input" }));
  expect(await screen.findByRole("option", { name: "Incoming" })).toBeTruthy();
  expect(screen.queryByRole("option", { name: "New" })).toBeNull();
  await userEvent.click(screen.getByRole("option", { name: "Incoming" }));
  await userEvent.type(within(partner).getByLabelText(/Contact field/, { selector: "input" }), "contact.cf.3");
  expect(latest).toEqual({ pipeline_id: 2, status_id: 21, partner: { contact_field: "contact.cf.3" } });
});

test("the mapping table refuses a pair whose value cannot go into the field", async () => {
  render(<Form />);
  const table = screen.getByRole("group", { name: "Field mapping" });
  await userEvent.type(within(table).getByLabelText(/^Order field/, { selector: "input" }), "total");
  await userEvent.click(within(table).getByLabelText(/^amoCRM field/, { selector: "input" }));
  await userEvent.click(await screen.findByRole("option", { name: "Order date · date" }));
  expect(await within(table).findByText("A number value cannot go into a date field")).toBeTruthy();
  expect((within(table).getByRole("button", { name: "Add" }) as HTMLButtonElement).disabled).toBe(true);
  await userEvent.click(within(table).getByLabelText(/^amoCRM field/, { selector: "input" }));
  await userEvent.click(await screen.findByRole("option", { name: "Note · text" }));
  await userEvent.click(within(table).getByRole("button", { name: "Add" }));
  expect(latest).toEqual({ mappings: { total: "contact.cf.7" } });
  expect(within(table).getByRole("table", { name: "Field mapping" }).textContent).toContain("Note");
});

test("required settings and bounds are checked before the server is asked", () => {
  const t = (key: string, options?: Record<string, unknown>) => i18n.t(key, options);
  expect(validate(schema, { pipeline_id: 0, tags: ["a", "b", "c"] }, t)).toEqual({
    pipeline_id: "Must be more than 0",
    status_id: "Required",
    tags: "At most 2 entries",
    "partner.contact_field": "Required",
  });
  expect(validate(schema, { pipeline_id: 1, status_id: 11, partner: { contact_field: "contact.cf.3" } }, t)).toEqual({});
});

test("the server's refusal is put next to the settings it names", async () => {
  const { errors, rest } = placeErrors(
    schema,
    "mappings.total: a number value cannot go into the date field 'Order date'; partner.contact_field: must be a contact field; lead.cf.9: the account has no lead field 9",
  );
  expect(errors).toEqual({ mappings: "total: a number value cannot go into the date field 'Order date'", "partner.contact_field": "must be a contact field" });
  expect(rest).toEqual(["lead.cf.9: the account has no lead field 9"]);
  const wrapped = placeErrors(schema, "invalid config for plugin 'x': (config): Value error, partner.contact_field: 'x' is not defined");
  expect(wrapped.errors).toEqual({ "partner.contact_field": "'x' is not defined" });
  render(<Form errors={errors} />);
  expect(screen.getByText("must be a contact field")).toBeTruthy();
});

test("labels are read in the reader's language where the schema has them", async () => {
  await i18n.changeLanguage("ru");
  render(<Form />);
  expect(screen.getByLabelText(/Воронка/, { selector: "input" })).toBeTruthy();
  expect(screen.getByLabelText(/Stage/, { selector: "input" })).toBeTruthy();
});

test("advanced settings are folded, and open by themselves when one has an error", async () => {
  const { unmount } = render(<Form />);
  const toggle = screen.getByRole("button", { name: "Advanced settings" });
  expect(toggle.getAttribute("aria-expanded")).toBe("false");
  await userEvent.click(toggle);
  expect(toggle.getAttribute("aria-expanded")).toBe("true");
  unmount();
  render(<Form errors={{ cache_seconds: "Must be at least 0" }} />);
  expect(screen.getByRole("button", { name: "Advanced settings" }).getAttribute("aria-expanded")).toBe("true");
  expect(screen.getByText("Must be at least 0")).toBeTruthy();
});
