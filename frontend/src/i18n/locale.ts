// What is shown in the reader's language beyond the app's own words: the names plugins
// give themselves and their formats, dates and sums of money.
import { useTranslation } from "react-i18next";

/** A plugin or format as the server describes it: English, with other languages in `i18n`. */
export interface Described {
  title: string;
  description?: string;
  i18n?: Record<string, Record<string, string>>;
}

export function useLocale() {
  const { i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? "en";
  return {
    language,
    named: (item: Described) => {
      const mine = item.i18n?.[language] ?? {};
      return { title: mine.title ?? item.title, description: mine.description ?? item.description ?? "" };
    },
    when: (iso: string) => new Date(iso).toLocaleString(language),
    day: (iso: string) => new Date(iso).toLocaleDateString(language),
    /** An amount in the currency's smallest unit, as Stripe gives it (cents; yen as is). */
    money: (amount: number, currency: string) => {
      const format = new Intl.NumberFormat(language, { style: "currency", currency: currency.toUpperCase() });
      return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
    },
  };
}
