/**
 * WHO (2011). Haemoglobin concentrations for the diagnosis of anaemia and
 * assessment of severity. Vitamin and Mineral Nutrition Information System
 * (WHO/NMH/NHD/MNM/11.1), Table 1. Haemoglobin in g/L at sea level.
 * Anaemia below `normalFrom`; mild from `mildFrom`, moderate from `moderateFrom`,
 * severe below `moderateFrom`.
 */
export interface HbGroup {
  label: string;
  normalFrom: number;
  mildFrom: number;
  moderateFrom: number;
}

export const whoHemoglobin = {
  months6to59: { label: "6–59月龄", normalFrom: 110, mildFrom: 100, moderateFrom: 70 },
  years5to11: { label: "5–11岁", normalFrom: 115, mildFrom: 110, moderateFrom: 80 },
  years12to14: { label: "12–14岁", normalFrom: 120, mildFrom: 110, moderateFrom: 80 },
  female15plus: { label: "15岁及以上女性（非孕）", normalFrom: 120, mildFrom: 110, moderateFrom: 80 },
  male15plus: { label: "15岁及以上男性", normalFrom: 130, mildFrom: 110, moderateFrom: 80 },
} as const satisfies Record<string, HbGroup>;
