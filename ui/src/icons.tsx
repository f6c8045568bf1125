// Small stroke icons (drawn here, so no icon font is needed on any platform).
const PATHS: Record<string, string> = {
  overview: "M3 12h4l3-8 4 16 3-8h4",
  keys: "M15 7a4 4 0 1 1-3.9 4.9L4 19v-3h3v-3h3l1.1-1.1A4 4 0 0 1 15 7zm1.5 2.5h.01",
  oidc: "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6l8-3zm-3 9l2 2 4-4",
  integrations: "M7 7h11l-3-3M17 17H6l3 3",
  clients: "M4 20V8l8-4 8 4v12M9 20v-5h6v5M8 10h.01M12 10h.01M16 10h.01",
  incidents: "M12 4l9 16H3L12 4zm0 6v4m0 3h.01",
  analytics: "M4 20V10m5 10V4m5 16v-7m5 7V8M3 20h18",
  audit: "M8 6h12M8 12h12M8 18h12M4 6h.01M4 12h.01M4 18h.01",
  sync: "M4 12a8 8 0 0 1 14-5.3L20 9M20 4v5h-5M20 12a8 8 0 0 1-14 5.3L4 15M4 20v-5h5",
  settings: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm7.4-3a7.4 7.4 0 0 0-.1-1.2l2-1.6-2-3.4-2.4 1a7 7 0 0 0-2-1.2L14.5 3h-5l-.4 2.6a7 7 0 0 0-2 1.2l-2.4-1-2 3.4 2 1.6a7.4 7.4 0 0 0 0 2.4l-2 1.6 2 3.4 2.4-1a7 7 0 0 0 2 1.2l.4 2.6h5l.4-2.6a7 7 0 0 0 2-1.2l2.4 1 2-3.4-2-1.6c.1-.4.1-.8.1-1.2z",
  search: "M11 18a7 7 0 1 1 0-14 7 7 0 0 1 0 14zm5-2l4 4",
  // An incident's timeline, one per event kind.
  opened: "M5 21V4h11l-2 4 2 4H5",
  comment: "M4 5h16v11H9l-5 4V5z",
  acknowledged: "M5 12l4 4 10-10",
  assigned: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8a7 7 0 0 1 14 0",
  severity_changed: "M12 20V4m-6 6l6-6 6 6",
  renamed: "M4 20h4l10-10-4-4L4 16v4z",
  status_changed: "M9 6v12M15 6v12",
  resolved: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zm-4-9l3 3 5-6",
  closed: "M6 11h12v10H6V11zm3 0V8a3 3 0 0 1 6 0v3",
  reopened: "M4 12a8 8 0 1 0 2.3-5.7M4 4v4h4",
  escalated: "M6 16V11a6 6 0 0 1 12 0v5l2 2H4l2-2zm4 4h4",
  sla_at_risk: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zm0-14v5l3 2",
  sla_breached: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zm0-13v5m0 3h.01",
};

export function Icon({ name, size = 18 }: { name: string; size?: number }) {
  return (
    <svg className="svg-icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={PATHS[name] ?? PATHS.overview} />
    </svg>
  );
}
