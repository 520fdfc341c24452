import type { TopLevelSpec } from 'vega-lite'

// vega-lite specs for the bench charts (data only; bench/chart.ts renders them, loading vega when it does).

export type { TopLevelSpec }

export interface BarDatum {
  /** Bars of one group share an x position (e.g. a workload); series are coloured (e.g. an allocator). */
  group: string
  series: string
  value: number
}

function uniqueInOrder(values: readonly string[]): string[] {
  return [...new Set(values)]
}

/**
 * Grouped bars: one group per x category, one coloured bar per series. Groups and series keep the order of the
 * data (a sequence of steps reads left to right), not vega-lite's alphabetical default.
 */
export function groupedBars(title: string, yTitle: string, data: readonly BarDatum[]): TopLevelSpec {
  const series = uniqueInOrder(data.map((d) => d.series))
  const groups = uniqueInOrder(data.map((d) => d.group))
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: { step: 28 },
    height: 220,
    data: { values: data.map((d) => ({ ...d })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      column: { field: 'group', type: 'nominal', title: null, sort: groups, header: { labelOrient: 'bottom' } },
      x: { field: 'series', type: 'nominal', axis: null, sort: series },
      y: { field: 'value', type: 'quantitative', title: yTitle },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: series }, legend: { labelLimit: 0 } },
    },
    config: { view: { stroke: null } },
  }
}

export interface LinePoint {
  x: number
  y: number
  series: string
}

/** Lines over a quantitative x (e.g. backlog over time). */
export function lines(title: string, xTitle: string, yTitle: string, data: readonly LinePoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    height: 240,
    data: { values: data.map((d) => ({ ...d })) },
    mark: { type: 'line', point: false },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'y', type: 'quantitative', title: yTitle },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { labelLimit: 0 } },
    },
  }
}
