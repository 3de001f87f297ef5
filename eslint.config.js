// Lint on top of `tsc` (npm run lint runs both): type-aware rules catch floating
// promises, which matter in a system where a dropped await loses a record.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/src/generated/**", "**/*.mjs", "**/*.js", "bench/**", "**/samples/**", "**/prisma.config.ts"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ["vitest.config.ts", "infra/test/*.ts", "conformance/*.ts", "apps/console/scripts/*.ts", "apps/console/test/*.ts"],
          // Test and script files outside any tsconfig: more than typescript-eslint's default of 8.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 80,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
);
