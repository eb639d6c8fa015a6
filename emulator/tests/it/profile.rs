//! The function profile on compiled control flow: calls, returns, tail calls,
//! veneers, branches into another function's epilogue, loops at a function's
//! entry and recursion (fixtures/src/profile_calls.S, fixtures/src/roi_ddiv.c).

use mcubench::run::RunRecord;

use crate::run;

fn calls(r: &RunRecord) -> Vec<(&str, u64)> {
    let mut calls: Vec<(&str, u64)> = r
        .profile
        .iter()
        .map(|f| (f.name.as_str(), f.calls))
        .collect();
    calls.sort();
    calls
}

fn stack_cycles(r: &RunRecord, stack: &str) -> u64 {
    r.stacks
        .iter()
        .find(|s| s.stack == stack)
        .unwrap_or_else(|| panic!("no stack {stack} in {:?}", r.stacks))
        .cycles
}

#[test]
fn calls_are_call_instructions_and_tail_calls_after_the_epilogue() {
    let r = run("profile_calls.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(
        calls(&r),
        [
            ("add_one", 1),
            ("add_two", 1),
            // Once called, once through the veneer, once tail-called; its
            // loop back to its own entry is no call.
            ("count_down", 3),
            ("count_down_veneer", 1),
            // depth(4) down to depth(0); the loops at the return address are no returns.
            ("depth", 5),
            ("main", 1),
            ("reset_handler", 1),
            ("roi_tail", 1),
            ("semihost_exit", 1),
        ]
    );
    let mut stacks: Vec<&str> = r.stacks.iter().map(|s| s.stack.as_str()).collect();
    stacks.sort();
    assert_eq!(
        stacks,
        [
            "reset_handler",
            "reset_handler;main",
            "reset_handler;main;add_one",
            // add_two's branch into add_one's epilogue stays in add_two's frame.
            "reset_handler;main;add_two",
            "reset_handler;main;count_down",
            "reset_handler;main;count_down_veneer",
            "reset_handler;main;count_down_veneer;count_down",
            "reset_handler;main;depth",
            "reset_handler;main;depth;depth",
            "reset_handler;main;depth;depth;depth",
            "reset_handler;main;depth;depth;depth;depth",
            "reset_handler;main;depth;depth;depth;depth;depth",
            "reset_handler;main;roi_tail",
            "reset_handler;main;roi_tail;count_down",
            "reset_handler;semihost_exit",
        ]
    );
    let f = |name: &str| r.profile.iter().find(|f| f.name == name).unwrap();
    // The shared epilogue's cycles are add_one's own, run in add_two's frame.
    assert_eq!(
        f("add_two").total_cycles,
        stack_cycles(&r, "reset_handler;main;add_two")
    );
    assert!(f("add_one").self_cycles > stack_cycles(&r, "reset_handler;main;add_one"));
    // The region holds the function it tail-calls.
    let region = r.regions.iter().find(|g| g.name == "tail").unwrap();
    assert_eq!(region.calls, 1);
    assert_eq!(
        region.cycles,
        stack_cycles(&r, "reset_handler;main;roi_tail")
            + stack_cycles(&r, "reset_handler;main;roi_tail;count_down")
    );
    let main = f("main");
    assert_eq!(
        main.total_cycles,
        r.stacks
            .iter()
            .filter(|s| s.stack.starts_with("reset_handler;main"))
            .map(|s| s.cycles)
            .sum::<u64>()
    );
}

/// libgcc's soft-double divide opens with a conditional BL to its special
/// cases, not taken for ordinary operands, and ends in a shared epilogue.
#[test]
fn a_region_calling_a_soft_double_divide_counts_its_own_calls() {
    let r = run("roi_ddiv.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(
        calls(&r),
        [
            ("__aeabi_ddiv", 300),
            ("main", 1),
            ("reset_handler", 1),
            ("roi_work", 3),
            ("semihost_exit", 1),
        ]
    );
    let region = &r.regions[0];
    assert_eq!((region.name.as_str(), region.calls), ("work", 3));
    assert_eq!(
        region.cycles,
        stack_cycles(&r, "reset_handler;main;roi_work")
            + stack_cycles(&r, "reset_handler;main;roi_work;__aeabi_ddiv")
    );
    assert_eq!(r.stacks.len(), 5);
}

/// Rust (legacy and v0) and C++ symbols read as their source wrote them, and
/// a `roi_` function counts as a region by its last path segment
/// (fixtures/src/mangled_names.c).
#[test]
fn mangled_names_are_shown_demangled() {
    let r = run("mangled_names.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(
        calls(&r),
        [
            ("firmware::dense", 4),
            ("firmware::roi_infer", 2),
            ("firmware::train::roi_step", 1),
            ("main", 1),
            ("net::relu(int)", 2),
            ("net::roi_eval(int)", 1),
            ("reset_handler", 1),
            ("semihost_exit", 1),
        ]
    );
    let mut stacks: Vec<&str> = r.stacks.iter().map(|s| s.stack.as_str()).collect();
    stacks.sort();
    assert_eq!(
        stacks,
        [
            "reset_handler",
            "reset_handler;main",
            "reset_handler;main;firmware::roi_infer",
            "reset_handler;main;firmware::roi_infer;firmware::dense",
            "reset_handler;main;firmware::train::roi_step",
            "reset_handler;main;net::roi_eval(int)",
            "reset_handler;main;net::roi_eval(int);net::relu(int)",
            "reset_handler;semihost_exit",
        ]
    );
    let regions: Vec<(&str, u64)> = r
        .regions
        .iter()
        .map(|g| (g.name.as_str(), g.calls))
        .collect();
    assert_eq!(regions, [("infer", 2), ("step", 1), ("eval", 1)]);
    let infer = &r.regions[0];
    assert_eq!(
        infer.cycles,
        stack_cycles(&r, "reset_handler;main;firmware::roi_infer")
            + stack_cycles(&r, "reset_handler;main;firmware::roi_infer;firmware::dense")
    );
}

#[test]
fn messages_name_the_demangled_function() {
    let image = mcubench::image::Image::load(&crate::fixture("mangled_names.elf")).unwrap();
    let at = image.symbols.addr_of("firmware::dense").unwrap();
    assert_eq!(
        image.symbols.describe(at + 2),
        format!("{:#010x} (in firmware::dense+0x2)", at + 2)
    );
}

/// Two files' static functions of one name (as TFLM's per-operator `Eval`s in
/// anonymous namespaces) are told apart by their source file.
#[test]
fn local_functions_sharing_a_name_carry_their_source_file() {
    let r = run("static_twins.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0));
    let evals: Vec<(&str, u64)> = calls(&r)
        .into_iter()
        .filter(|(name, _)| name.starts_with("eval"))
        .collect();
    assert_eq!(
        evals,
        [("eval [twins_add.c]", 4), ("eval [twins_mul.c]", 4)]
    );
    // A name no other function has stays as it is.
    assert!(calls(&r).iter().any(|&(name, _)| name == "add_op"));
}
