import { SegmentedControl } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { LANGUAGES } from "../i18n";

export function LanguageSwitch() {
  const { i18n, t } = useTranslation();
  const current = i18n.resolvedLanguage ?? "en";
  return (
    <SegmentedControl
      size="xs"
      aria-label={t("common.language")}
      value={current}
      onChange={(language) => void i18n.changeLanguage(language)}
      data={Object.entries(LANGUAGES).map(([value, label]) => ({ value, label }))}
    />
  );
}
