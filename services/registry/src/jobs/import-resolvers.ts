/** Villages, townships and schools of the uploader's county: plain data, so it crosses into the parse worker. */
export interface ResolverData {
  villages: { code: string; name: string; parentCode: string | null }[];
  townships: Record<string, string>;
  schools: { id: string; name: string }[];
}

export interface Resolvers {
  resolveVillage: (addressText: string, sheetName: string) => { villageCode: string } | { error: string };
  resolveSchool: (schoolName: string) => { schoolId: string } | { error: string };
}

/** Village from the address text (or sheet name), school by exact name, with zh-CN reasons when they fail. */
export function resolversFrom(data: ResolverData): Resolvers {
  const { villages, townships } = data;
  const schools = new Map<string, string>();
  for (const s of data.schools) if (!schools.has(s.name)) schools.set(s.name, s.id); // the first of a name, as before
  return {
    resolveVillage(addressText, sheetName) {
      const text = addressText.replace(/\s+/g, "");
      const matches = villages.filter((v) => text.includes(v.name));
      // Two townships may both have a 新村: the township named in the address or sheet decides.
      const narrowed =
        matches.length > 1
          ? matches.filter((v) => {
              const township = townships[v.parentCode ?? ""] ?? "";
              return text.includes(township) || sheetName.includes(township);
            })
          : matches;
      if (narrowed.length === 1) return { villageCode: narrowed[0]!.code };
      if (narrowed.length === 0) return { error: `户籍地址“${addressText}”中找不到本县的村（社区）名称` };
      return { error: `户籍地址“${addressText}”对应多个村（社区），请写明乡镇` };
    },
    resolveSchool(schoolName) {
      const schoolId = schools.get(schoolName.replace(/\s+/g, ""));
      return schoolId ? { schoolId } : { error: `就读学校“${schoolName}”不在本县学校名单中` };
    },
  };
}
