//! The scale chart: reader CPU and p95 latency against the number of cameras, one line per
//! backend, as SVG (text as SVG text: no font files needed).

use crate::scale::{COUNTS, ScaleRow};
use plotters::prelude::*;
use std::path::Path;

/// Draws `rows` (one encode per camera) into `path`.
pub fn draw(rows: &[ScaleRow], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let mut backends: Vec<&str> = rows.iter().map(|r| r.backend.as_str()).collect();
    backends.dedup();
    backends.sort();
    backends.dedup();
    panel(&left, rows, &backends, "reader CPU (cores)", |r| {
        Some(r.reader_cores)
    })?;
    panel(&right, rows, &backends, "latency p95 (ms)", |r| {
        r.latency_p95_ms
    })?;
    root.present()?;
    Ok(())
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    rows: &[ScaleRow],
    backends: &[&str],
    title: &str,
    value: impl Fn(&ScaleRow) -> Option<f64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let points = |backend: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| r.backend == backend && r.mode != "key_frames")
            .filter_map(|r| Some((r.cameras as f64, value(r)?)))
            .collect()
    };
    let top = backends
        .iter()
        .flat_map(|b| points(b))
        .map(|(_, y)| y)
        .fold(0.0f64, f64::max)
        * 1.1;
    let max_n = *COUNTS.last().expect("counts") as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..max_n + 1.0, 0.0..top.max(0.1))?;
    chart
        .configure_mesh()
        .x_desc("cameras")
        .x_labels(9)
        .y_labels(8)
        .draw()?;
    for (i, backend) in backends.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        let line = points(backend);
        chart
            .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))?
            .label(*backend)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
        chart.draw_series(line.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
