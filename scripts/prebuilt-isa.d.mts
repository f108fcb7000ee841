// Types of prebuilt-isa.mjs, for the loader in src/native/binding.ts.
export const PREBUILT_ISAS: [isa: string, march: string][];
export function prebuiltVariant(base: string, isa: string): string;
export function prebuiltIsa(flags: Set<string>, request: string | undefined): string | null;
export function cpuFlags(): Set<string>;
