import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, expect, test, vi } from "vitest";
import i18n from "../i18n";
import { LogIn, SignUp } from "./Auth";

function show(element: React.ReactElement) {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <MantineProvider>
      <QueryClientProvider client={queries}>
        <MemoryRouter>{element}</MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

afterEach(() => {
  vi.restoreAllMocks();
  void i18n.changeLanguage("en");
});

test("sign-up checks its fields before asking the server", async () => {
  const fetch = vi.spyOn(globalThis, "fetch");
  show(<SignUp />);
  await userEvent.type(screen.getByLabelText(/Email/), "not-an-address");
  await userEvent.type(screen.getByLabelText(/^Password/), "short");
  await userEvent.click(screen.getByRole("button", { name: "Create account" }));
  expect(await screen.findByText("Enter an email address like name@example.com")).toBeTruthy();
  expect(screen.getByText("Name your workspace")).toBeTruthy();
  expect(screen.getAllByText("At least 10 characters").length).toBeGreaterThan(0);
  expect(fetch).not.toHaveBeenCalled();
});

test("the log-in page speaks Russian when asked", async () => {
  await i18n.changeLanguage("ru");
  show(<LogIn />);
  expect(screen.getByRole("heading", { name: "Вход в Junction" })).toBeTruthy();
  expect(screen.getByRole("button", { name: "Войти" })).toBeTruthy();
});
