import { useEffect, useState } from 'react';

export function App(): React.JSX.Element {
  const [version, setVersion] = useState<string | null>(null);

  useEffect(() => {
    // Served to a plain browser there is no bridge yet: the page must still render.
    if (!('larder' in window)) return;
    window.larder.version().then(setVersion, () => setVersion(null));
  }, []);

  return (
    <main>
      <h1>Larder</h1>
      <p>A Raft-replicated, content-addressed file store for your LAN. The node runtime arrives in a later issue.</p>
      <p className="muted">{version ? `version ${version}` : 'not connected to a node'}</p>
    </main>
  );
}
