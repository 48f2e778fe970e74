// The app's look: Mantine's, with colours dark enough for WCAG AA contrast (4.5:1) on
// white and on their own pale backgrounds, which Mantine's default shades fall short of
// for red, orange, yellow and green (white on green 8 is 3.4:1).
import { createTheme, DEFAULT_THEME, type CSSVariablesResolver, type MantineColorsTuple } from "@mantine/core";

/** A colour with its two darkest shades (filled backgrounds, text on pale ones) replaced. */
function darker(colour: string, shade8: string, shade9: string): MantineColorsTuple {
  const shades = [...DEFAULT_THEME.colors[colour]];
  shades[8] = shade8;
  shades[9] = shade9;
  return shades as unknown as MantineColorsTuple;
}

export const theme = createTheme({
  primaryColor: "blue",
  // Filled buttons and badges take shade 8.
  primaryShade: 8,
  colors: {
    red: darker("red", "#c92a2a", "#a61e1e"),
    orange: darker("orange", "#9a3412", "#7c2d12"),
    yellow: darker("yellow", "#8a5a00", "#6b4500"),
    green: darker("green", "#237032", "#1b5e27"),
  },
});

// The colours the app uses for badges, alerts and the current page in the menu.
const COLOURS = ["blue", "green", "red", "orange", "yellow", "grape", "gray", "teal", "cyan"];

export const cssVariables: CSSVariablesResolver = (current) => ({
  variables: {},
  light: {
    // Secondary text ("dimmed"), hints and descriptions.
    "--mantine-color-dimmed": current.colors.gray[7],
    // Links, also on the pale backgrounds of alerts.
    "--mantine-color-anchor": current.colors.blue[9],
    // Field errors.
    "--mantine-color-error": current.colors.red[8],
    // Text on the pale ("light" variant) backgrounds, and those backgrounds under the pointer.
    ...Object.fromEntries(COLOURS.map((colour) => [`--mantine-color-${colour}-light-color`, current.colors[colour][9]])),
    ...Object.fromEntries(COLOURS.map((colour) => [`--mantine-color-${colour}-light-hover`, current.colors[colour][1]])),
  },
  dark: {},
});
