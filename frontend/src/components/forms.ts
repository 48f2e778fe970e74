// The server's errors next to the field they name.
import type { UseFormReturnType } from "@mantine/form";
import { ApiError } from "../api/client";

export function showServerError<T>(form: UseFormReturnType<T>, error: unknown): string | null {
  if (error instanceof ApiError && error.field && error.field in (form.values as object)) {
    form.setFieldError(error.field, error.message);
    return null;
  }
  return error instanceof Error ? error.message : String(error);
}
