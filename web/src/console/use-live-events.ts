import { useEffect, useRef, useState } from 'react';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * A server-sent event stream of the console, open while the component is mounted: each named
 * event's JSON goes to its handler (a malformed event is skipped). After a drop the browser
 * reconnects, but what happened meanwhile is not replayed: `onReconnect` reads it again.
 */
export function useLiveEvents(url: string, handlers: Record<string, (data: unknown) => void>, onReconnect: () => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  // The stream opens once per url; the latest handlers are read through this ref.
  const latest = useRef({ handlers, onReconnect });
  latest.current = { handlers, onReconnect };

  useEffect(() => {
    const source = new EventSource(url);
    let dropped = false;
    source.addEventListener('open', () => {
      setState('live');
      if (dropped) latest.current.onReconnect();
    });
    source.addEventListener('error', () => {
      dropped = true;
      setState('reconnecting');
    });
    for (const name of Object.keys(latest.current.handlers)) {
      source.addEventListener(name, (event) => {
        try {
          latest.current.handlers[name]?.(JSON.parse((event as MessageEvent<string>).data));
        } catch {
          // Skipped; the next reload repairs the view.
        }
      });
    }
    return () => source.close();
  }, [url]);

  return state;
}
