// The seal of a memo file in the Kiln home (attest/seal.ts makes one from the signing key): stages that keep a memo
// take it as a parameter, so they need not know about keys.

/** Seals the text of a memo file when it is written, and gives it back only when the seal verifies. */
export interface TextSeal {
  seal(text: string): Promise<string>;
  /** The sealed text, or undefined when the seal is missing, from another key or does not verify. */
  open(sealed: string): string | undefined;
}
