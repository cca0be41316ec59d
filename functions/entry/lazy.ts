/** Builds on first use, so importing an entry file reads no environment. */
export const lazy = <A extends unknown[], R>(build: () => (...args: A) => R) => {
  let built: ((...args: A) => R) | undefined;
  return (...args: A): R => {
    built ??= build();
    return built(...args);
  };
};
