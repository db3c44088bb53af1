//! The noise schedule against values computed independently (Python's math module, the notebook's
//! formula), and the variation's step selection.

use redance_engine::schedule::{alpha_sigma, crash_schedule, model_calls, variation_times};

/// `atan2(s, sqrt(1 − s²))·2/π`, s = sin(t·π/2)², t = i/10, computed in Python.
const CRASH_10: [f64; 11] = [
    0.0,
    0.015580750122119865,
    0.060884549557607685,
    0.13215923710820113,
    0.22457557562099714,
    0.33333333333333326,
    0.4542488012122222,
    0.5838976241644865,
    0.7195240782053209,
    0.8588706879394324,
    1.0,
];

#[test]
fn crash_schedule_matches_independent_values() {
    for (got, want) in crash_schedule(10).iter().zip(CRASH_10) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}

#[test]
fn alpha_sigma_are_cos_sin() {
    let (a, s) = alpha_sigma(1.0 / 3.0);
    assert!((a - 3f64.sqrt() / 2.0).abs() < 1e-12);
    assert!((s - 0.5).abs() < 1e-12);
}

#[test]
fn variation_keeps_points_below_strength_descending_to_zero() {
    // Points 0..=6 of the 10-step schedule lie below 0.5 (the 7th is 0.584).
    let want: Vec<f64> = CRASH_10[..=6].iter().rev().copied().collect();
    assert_eq!(variation_times(10, 0.5), want);
    assert_eq!(model_calls(10, 0.5), 6);
}

#[test]
fn strength_zero_means_no_model_calls_and_one_means_all() {
    assert_eq!(variation_times(50, 0.0), vec![0.0]);
    assert_eq!(model_calls(50, 0.0), 0);
    assert_eq!(model_calls(50, 1.0), 50);
    assert_eq!(variation_times(50, 1.0)[0], 1.0);
}
