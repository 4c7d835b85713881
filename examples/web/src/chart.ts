/**
 * The predicted age distribution as a bar chart, one bar per age class (101 for ages 0..100), with
 * Chart.js (tree-shaken to the bar chart): axes, ticks and a tooltip with the exact probability per age
 * come with it, which a hand-drawn canvas would have to reimplement.
 */
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Draws `probabilities` (age `minAge + k` for bar `k`) into `canvas`, the bar of the expected age highlighted. */
export function drawDistribution(canvas: HTMLCanvasElement, probabilities: Float32Array, minAge: number, expected: number): Chart {
  const ages = Array.from(probabilities, (_, k) => minAge + k);
  const nearest = Math.round(expected);
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: ages,
      datasets: [
        {
          label: 'P(age)',
          data: Array.from(probabilities),
          backgroundColor: ages.map((a) => (a === nearest ? '#d9480f' : '#1c7ed6')),
          barPercentage: 1,
          categoryPercentage: 1,
        },
      ],
    },
    options: {
      animation: false,
      responsive: false,
      plugins: { tooltip: { callbacks: { label: (c) => `P(age ${c.label}) = ${((c.parsed.y ?? 0) * 100).toFixed(2)} %` } } },
      scales: {
        x: { title: { display: true, text: 'age (years)' }, ticks: { autoSkip: false, callback: (_v, i) => (ages[i] % 10 === 0 ? ages[i] : '') } },
        y: { title: { display: true, text: 'probability' }, beginAtZero: true },
      },
    },
  });
}
