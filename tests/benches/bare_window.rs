//! The peer for the startup benchmark: a bare eframe window with the same eframe features, renderer and
//! window size as ANYON, showing one label. `tests/benches/startup.sh` builds it and measures it in the
//! same run as ANYON: time from exec to the first frame on screen, and the idle window's resident memory.
//!
//!     cargo bench --bench bare_window        (opens the window; ANYON_BENCH_FIRST_FRAME=1 closes it
//!                                              after the first frame and prints when that was)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

struct Bare {
    frames: u64,
    bench_first_frame: bool,
}

impl eframe::App for Bare {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.frames += 1;
        // As in ANYON: logic() of the second pass runs after the first frame was painted and presented.
        if self.bench_first_frame && self.frames == 2 {
            let since_epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            println!("ANYON_FIRST_FRAME_UNIX_NS={}", since_epoch.as_nanos());
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("Hello, world");
        });
    }
}

fn main() {
    let bench_first_frame = std::env::var_os("ANYON_BENCH_FIRST_FRAME").is_some_and(|v| v == "1");
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("bare eframe")
            .with_inner_size([1180.0, 760.0]),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "bare eframe",
        options,
        Box::new(move |_cc| {
            Ok(Box::new(Bare {
                frames: 0,
                bench_first_frame,
            }))
        }),
    )
    .expect("the window");
}
