// Russian and English; the browser's language picks, the user can switch (kept in
// localStorage).
import i18n from "i18next";
import LanguageDetector from "i18next-browser-languagedetector";
import { initReactI18next } from "react-i18next";
import en from "./en";
import ru from "./ru";

export const LANGUAGES = { en: "English", ru: "Русский" } as const;

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources: { en: { translation: en }, ru: { translation: ru } },
    fallbackLng: "en",
    supportedLngs: Object.keys(LANGUAGES),
    nonExplicitSupportedLngs: true,
    interpolation: { escapeValue: false },
    detection: { order: ["localStorage", "navigator"], caches: ["localStorage"] },
  });

// Screen readers and the browser's own features read the page's language from here.
const setLang = (language: string) => document.documentElement.setAttribute("lang", language);
i18n.on("languageChanged", setLang);
if (i18n.resolvedLanguage) setLang(i18n.resolvedLanguage);

export default i18n;
