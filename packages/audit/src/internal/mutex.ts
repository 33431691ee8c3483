// Runs tasks one after another (an in-process lock for sinks with one connection or one file).
export function serial(): <TValue>(task: () => Promise<TValue>) => Promise<TValue> {
  let last: Promise<unknown> = Promise.resolve();
  return <TValue>(task: () => Promise<TValue>): Promise<TValue> => {
    const run = last.then(task, task);
    last = run.catch(() => undefined);
    return run;
  };
}
