/** What each mark of the tree means. */
export function TreeLegend() {
  const item = (
    className: string,
    shape: 'circle' | 'diamond' | 'square' | 'ring' | 'badge' | 'stop',
    text: string,
  ) => (
    <span>
      <svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true">
        <g className={`tree-node ${className}`}>
          {shape === 'circle' && <circle className="shape" r="6" />}
          {shape === 'ring' && (
            <>
              <circle className="shape" r="6" />
              <circle className="same-pid" r="9.5" />
            </>
          )}
          {shape === 'badge' && (
            <>
              <circle className="shape" r="6" />
              <g className="detection-badge">
                <circle className="badge severity-high" cx="-5" cy="-5" r="5" />
              </g>
            </>
          )}
          {shape === 'stop' && (
            <>
              <circle className="shape" r="6" />
              <g
                className={`enforcement-mark ${className.includes('dry-run') ? 'dry-run' : 'blocked'}`}
              >
                <rect className="stop" x="-10" y="0" width="10" height="10" />
                <path className="cross" d="M-7.5,2.5L-2.5,7.5M-2.5,2.5L-7.5,7.5" />
              </g>
            </>
          )}
          {shape === 'diamond' && <path className="shape" d="M0,-7L7,0L0,7L-7,0Z" />}
          {shape === 'square' && <rect className="shape" x="-4" y="-4" width="8" height="8" />}
        </g>
      </svg>{' '}
      {text}
    </span>
  );
  return (
    <div className="legend" data-testid="legend">
      {item('process running', 'circle', 'running')}
      {item('process exited', 'circle', 'exited')}
      {item('process killed', 'circle', 'killed by a signal')}
      {item('process exited', 'ring', 'exec without fork (same pid)')}
      {item('process placeholder', 'circle', 'placeholder (never seen)')}
      {item('process exited procfs', 'circle', 'procFS (running at agent start)')}
      {item('process exited fork-only', 'diamond', 'fork without exec')}
      {item('process exited', 'badge', 'detections (colour: worst severity)')}
      {item('process killed', 'stop', 'blocked by a prevention policy')}
      {item('process exited dry-run', 'stop', 'a policy would have blocked (dry run)')}
      {item('network', 'square', 'network peer')}
      {item('file', 'square', 'file')}
      {item('more', 'square', 'children grouped')}
    </div>
  );
}
