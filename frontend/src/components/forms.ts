// The server's errors next to the field they name.
import type { UseFormReturnType } from "@mantine/form";
import { ApiError } from "../api/client";

/** Puts the server's refusal at its field and returns null, or returns the message to
 * show above the form. A field inside one of several body shapes (`telegram.chat_id`)
 * is the form's `chat_id`. */
export function showServerError<T>(form: UseFormReturnType<T>, error: unknown): string | null {
  if (error instanceof ApiError && error.field) {
    const values = form.values as object;
    const field = error.field in values ? error.field : error.field.split(".").pop();
    if (field && field in values) {
      form.setFieldError(field, error.message.replace(`${error.field}: `, ""));
      return null;
    }
  }
  return error instanceof Error ? error.message : String(error);
}
