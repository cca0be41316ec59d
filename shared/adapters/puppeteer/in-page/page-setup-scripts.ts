/** Page code (see capture-scripts.ts): run in every new document of a task's page. */

/** `navigator.language(s)` as the task's `locale` says, as Accept-Language already does. */
export function pinLanguage(lang: string): void {
  Object.defineProperty(navigator, 'language', { get: () => lang });
  Object.defineProperty(navigator, 'languages', { get: () => [lang] });
}
