import { MantineProvider } from "@mantine/core";
import { render, screen } from "@testing-library/react";
import { expect, test } from "vitest";
import "../i18n";
import { AuditChanges, auditChanges } from "./AuditChanges";

test("a changed configuration is shown as the settings that changed in it", () => {
  const before = { pipeline_id: 1, mappings: { total: "lead.price", shipping: "lead.cf.9" }, tags: ["web"] };
  const after = { pipeline_id: 1, mappings: { total: "lead.price" }, tags: ["web", "vip"] };
  expect(auditChanges({ config: { from: before, to: after } })).toStrictEqual([
    { path: "config.mappings.shipping", from: "lead.cf.9", to: undefined },
    { path: "config.tags", from: ["web"], to: ["web", "vip"] },
  ]);
});

test("what was made lists its settings; what was only noted is shown as it is", () => {
  expect(auditChanges({ name: { from: null, to: "Shop" }, config: { from: null, to: { a: 1 } }, reason: "trial" })).toStrictEqual([
    { path: "name", from: null, to: "Shop" },
    { path: "config.a", from: undefined, to: 1 },
    { path: "reason", to: "trial" },
  ]);
});

test("each change is a line: the setting, then what it was and what it became", () => {
  render(
    <MantineProvider env="test">
      <AuditChanges diff={{ role: { from: "viewer", to: "admin" }, sessions: { from: 2, to: 0 } }} />
    </MantineProvider>,
  );
  expect(screen.getByText("role").parentElement?.textContent).toBe("role viewer → admin");
  expect(screen.getByText("sessions").parentElement?.textContent).toBe("sessions 2 → 0");
});

test("a setting made shows it was not there before; a noted fact is shown as it is", () => {
  render(
    <MantineProvider env="test">
      <AuditChanges diff={{ config: { from: null, to: { days: 3 } }, reason: "trial" }} />
    </MantineProvider>,
  );
  expect(screen.getByText("config.days").parentElement?.textContent).toBe("config.days — → 3");
  expect(screen.getByText("reason").parentElement?.textContent).toBe("reason trial");
});
