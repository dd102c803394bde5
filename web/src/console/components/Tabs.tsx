import type { ReactNode } from 'react';

/**
 * A row of tabs over one panel: `name` makes the ids (`{name}-tab-{id}`, `{name}-panel`) that tie
 * each tab to the panel for screen readers.
 */
export function Tabs<Id extends string>(props: {
  name: string;
  label: string;
  tabs: readonly { id: Id; label: string }[];
  selected: NoInfer<Id>;
  onSelect(id: NoInfer<Id>): void;
  panelClassName?: string;
  children: ReactNode;
}) {
  const { name, label, tabs, selected, onSelect, panelClassName, children } = props;
  return (
    <>
      <div className="tabs" role="tablist" aria-label={label}>
        {tabs.map((tab) => (
          <button
            key={tab.id}
            type="button"
            role="tab"
            id={`${name}-tab-${tab.id}`}
            className="tab"
            aria-selected={selected === tab.id}
            aria-controls={`${name}-panel`}
            onClick={() => onSelect(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${name}-panel`} aria-labelledby={`${name}-tab-${selected}`} className={panelClassName}>
        {children}
      </div>
    </>
  );
}
