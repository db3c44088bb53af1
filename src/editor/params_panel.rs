//! Controls for every parameter, bound to the host parameters through nice-plug's `ParamSetter`
//! (begin / set / end gestures), so automation and host undo see every change.

use crate::editor::style;
use crate::params::{MAX_SEED, ModeChoice, RedanceParams};
use egui::{Grid, RichText, Ui};
use nice_plug::prelude::{BoolParam, Enum, EnumParam, Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

const SLIDER_WIDTH: f32 = 170.0;

/// One host gesture that sets `param` to `value`.
pub fn set<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

fn toggle(ui: &mut Ui, setter: &ParamSetter, param: &BoolParam, tip: &str) {
    let on = param.value();
    if ui.selectable_label(on, if on { "On" } else { "Off" }).on_hover_text(tip).clicked() {
        set(setter, param, !on);
    }
}

/// A drop-down of an enum parameter's choices (a slider hides them).
fn choice<T: Enum + PartialEq + Send + Sync + 'static>(ui: &mut Ui, setter: &ParamSetter, param: &EnumParam<T>) {
    let names = T::variants();
    let current = param.value().to_index();
    let mut picked = None;
    egui::ComboBox::from_id_salt(param.name())
        .width(SLIDER_WIDTH - 8.0)
        .selected_text(names.get(current).copied().unwrap_or_default())
        .show_ui(ui, |ui| {
            for (i, name) in names.iter().enumerate() {
                if ui.selectable_label(i == current, *name).clicked() {
                    picked = Some(i);
                }
            }
        });
    if let Some(i) = picked.filter(|&i| i != current) {
        set(setter, param, T::from_index(i));
    }
}

/// A new seed from the clock (no RNG dependency needed for a dice button).
pub fn dice_seed(previous: i32) -> i32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos ^ (previous as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    let seed = (x % (MAX_SEED as u64 + 1)) as i32;
    if seed == previous { (seed + 1) % (MAX_SEED + 1) } else { seed }
}

/// A control for every parameter, set through the host.
pub fn show(ui: &mut Ui, params: &RedanceParams, setter: &ParamSetter) {
    ui.label(RichText::new("Render").strong());
    Grid::new("redance-render-params").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
        ui.label("Strength");
        ui.add(ParamSlider::for_param(&params.strength, setter).with_width(SLIDER_WIDTH));
        ui.end_row();
        ui.label("Steps");
        ui.add(ParamSlider::for_param(&params.steps, setter).with_width(SLIDER_WIDTH));
        ui.end_row();
        ui.label("Sampler");
        choice(ui, setter, &params.sampler);
        ui.end_row();
        ui.label("Seed");
        ui.horizontal(|ui| {
            ui.add(ParamSlider::for_param(&params.seed, setter).with_width(SLIDER_WIDTH - 44.0));
            if ui.button("Dice").on_hover_text("A new random seed").clicked() {
                set(setter, &params.seed, dice_seed(params.seed.value()));
            }
        });
        ui.end_row();
        ui.label("Mode");
        choice(ui, setter, &params.mode);
        ui.end_row();
        if params.mode.value() == ModeChoice::Interpolate {
            ui.label("Position");
            ui.add(ParamSlider::for_param(&params.position, setter).with_width(SLIDER_WIDTH));
            ui.end_row();
        }
        ui.label("Auto render");
        toggle(ui, setter, &params.auto_render, "Render as soon as a capture completes");
        ui.end_row();
    });
    ui.add_space(6.0);
    ui.label(RichText::new("Capture & playback").strong());
    Grid::new("redance-play-params").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
        ui.label("Length");
        ui.add(ParamSlider::for_param(&params.length, setter).with_width(SLIDER_WIDTH))
            .on_hover_text("Bars at the host tempo (seconds without one)");
        ui.end_row();
        ui.label("Start on");
        choice(ui, setter, &params.start_on);
        ui.end_row();
        ui.label("Mix");
        ui.add(ParamSlider::for_param(&params.mix, setter).with_width(SLIDER_WIDTH));
        ui.end_row();
        ui.label("Loop");
        toggle(ui, setter, &params.looping, "Loop the take on the bar grid");
        ui.end_row();
    });
    ui.label(
        RichText::new("Double-click a slider to reset it; click its value to type one.").small().color(style::DIM),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_gives_a_new_seed_in_range() {
        for prev in [0, 17, MAX_SEED] {
            let s = dice_seed(prev);
            assert!((0..=MAX_SEED).contains(&s) && s != prev);
        }
    }
}
