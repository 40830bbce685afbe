//! A malformed scenario is refused with the file, line, column and field, and what was expected.

use bulkhead_scenario::{self as scenario, ScenarioError};

/// A valid preamble: lines 1 to 7.
const HEAD: &str = r#"version = 1
operators = [{ name = "operatorA" }]
stakers = [{ name = "alice" }]
avs = [{ name = "oracle", kind = "instant" }, { name = "council", kind = "veto", veto_window = "1d", resolver = "judge" }]
pools = [{ name = "P", operator = "operatorA", asset = "WETH" }, { name = "T", operator = "operatorA", tier_of = "P" }]
deposits = [{ staker = "alice", pool = "P", amount = "100" }]
allocations = [{ pool = "P", avs = "oracle", mode = "isolated", fraction = "50%" }]
"#;

fn error(text: &str) -> ScenarioError {
    scenario::parse("examples/x.toml", text).expect_err("the scenario is malformed")
}

/// The message for `HEAD` followed by `steps`.
fn step_error(steps: &str) -> String {
    error(&format!("{HEAD}{steps}")).to_string()
}

#[test]
fn bad_values_name_the_field_and_the_expected_form() {
    // Line 8 is empty; the step's table starts on line 9.
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"slash\"\navs = \"oracle\"\npool = \"P\"\nfraction = \"1.5\"\n"
        ),
        r#"examples/x.toml:13:12: steps[0].fraction: expected a fraction like "0.25" or "25%", got "1.5""#
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"slash\"\navs = \"oracle\"\npool = \"P\"\nfraction = 2\n"
        ),
        r#"examples/x.toml:13:12: steps[0].fraction: expected a fraction like "0.25" or "25%", got 2"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"warp\"\nduration = \"1y\"\n"),
        r#"examples/x.toml:11:12: steps[0].duration: expected a duration like "1d", "12h", "30m", "45s" or "1d12h", or seconds as an integer, got "1y""#
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"deposit\"\nstaker = \"alice\"\npool = \"P\"\namount = \"1.0000000000000000001\"\n"
        ),
        r#"examples/x.toml:13:10: steps[0].amount: expected an amount like "12.5" (WETH units), "12.5 WETH" or "12500 raw" (base units), got "1.0000000000000000001" (WETH has 18 decimals)"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"expect\"\nbacking = { oracle = { P = \"lots\" } }\n"),
        r#"examples/x.toml:11:28: steps[0].backing.oracle.P: expected an amount like "12.5" (WETH units), "12.5 WETH" or "12500 raw" (base units), got "lots""#
    );
    // A bare integer would be 600 wei where 600 WETH was meant: refused, with both spellings.
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"deposit\"\nstaker = \"alice\"\npool = \"P\"\namount = 600\n"
        ),
        r#"examples/x.toml:13:10: steps[0].amount: a bare number is ambiguous: write "600" for 600 WETH or "600 raw" for 600 base units"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"expect\"\nreuse_ratio = { P = \"a lot\" }\n"),
        r#"examples/x.toml:11:21: steps[0].reuse_ratio.P: expected a ratio like "1.5", "1.5x" or "150%", got "a lot""#
    );
}

#[test]
fn unknown_names_are_located() {
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"slash\"\navs = \"bridge\"\npool = \"P\"\nfraction = \"10%\"\n"
        ),
        r#"examples/x.toml:11:7: steps[0].avs: unknown AVS "bridge" (declared: oracle, council)"#
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"slash\"\navs = \"oracle\"\npool = \"Q\"\nfraction = \"10%\"\n"
        ),
        r#"examples/x.toml:12:8: steps[0].pool: unknown pool "Q" (declared: P, T)"#
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"deposit\"\nstaker = \"bob\"\npool = \"P\"\namount = \"1\"\n"
        ),
        r#"examples/x.toml:11:10: steps[0].staker: unknown staker "bob" (declared: alice)"#
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"slash\"\navs = \"oracle\"\npool = \"P\"\nfraction = \"10%\"\nby = \"mallory\"\n"
        ),
        r#"examples/x.toml:14:6: steps[0].by: unknown actor "mallory": declare it in `actors`, `operators` or `stakers` (declared: operatorA, alice, judge)"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"expect\"\nevents = [\"Slashd\"]\n"),
        r#"examples/x.toml:11:11: steps[0].events[0]: unknown event "Slashd": no Bulkhead contract declares it"#
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"slash\"\navs = \"oracle\"\npool = \"P\"\nfraction = \"10%\"\nexpect_revert = \"NotSlashabel\"\n"
        ),
        r#"examples/x.toml:14:17: steps[0].expect_revert: unknown error "NotSlashabel": no Bulkhead contract declares it"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"veto\"\nrequest = \"r1\"\n"),
        r#"examples/x.toml:11:11: steps[0].request: unknown request "r1": no earlier request_slash step has this label (none are declared)"#
    );
    assert_eq!(
        error("version = 1\noperators = [{ name = \"operatorA\" }]\npools = [{ name = \"P\", operator = \"operatorB\", asset = \"WETH\" }]\n").to_string(),
        r#"examples/x.toml:3:35: pools[0].operator: unknown operator "operatorB" (declared: operatorA)"#
    );
    assert_eq!(
        error("version = 1\noperators = [{ name = \"operatorA\" }]\npools = [{ name = \"P\", operator = \"operatorA\", asset = \"DAI\" }]\n").to_string(),
        r#"examples/x.toml:3:56: pools[0].asset: unknown asset "DAI" (declared: WETH, WBTC, USDC)"#
    );
}

#[test]
fn fields_and_actions_are_checked() {
    assert_eq!(
        step_error("\n[[steps]]\naction = \"slash\"\navs = \"oracle\"\npool = \"P\"\n"),
        r#"examples/x.toml:10:10: steps[0]: action "slash" needs field `fraction`"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"warp\"\nduration = \"1d\"\namount = \"3\"\n"),
        r#"examples/x.toml:12:10: steps[0].amount: not a field of action "warp" (it takes: duration)"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"dance\"\n"),
        "examples/x.toml:10:10: steps[0].action: unknown action \"dance\"; expected one of deposit, deposit_to_tier, allocate, \
         deallocate, warp, queue_withdrawal, claim, request_slash, veto, execute_slash, slash, double_sign, opt_in, opt_out, \
         bond, unbond, checkpoint, refresh_standing, reprice, bid, ask, fill, cancel_bid, cancel_ask, stream, \
         claim_rewards, withdraw_refunds, claim_commission, set_commission, pay, expect"
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"deposit\"\nstaker = \"alice\"\npool = \"T\"\namount = \"1\"\n"
        ),
        r#"examples/x.toml:12:8: steps[0].pool: pool "T" is a tier: use action "deposit_to_tier""#
    );
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"request_slash\"\navs = \"oracle\"\npool = \"P\"\nfraction = \"10%\"\n"
        ),
        r#"examples/x.toml:11:7: steps[0].avs: AVS "oracle" is instant: only veto and committee AVSs request slashes"#
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = \"expect\"\n"),
        "examples/x.toml:10:10: steps[0]: an expect step needs at least one check (pool_value, isolated, shared, \
         reuse_ratio, guard_used, rating, risk_weight, bond_short, bond, backing, position, escrow, balance, sink, claimable, leases, credits, \
         commission_owed, events, no_events)"
    );
    // Unknown keys come from serde, located through toml's spans.
    assert_eq!(
        step_error("\n[[steps]]\naction = \"slash\"\nfractoin = \"10%\"\n"),
        "examples/x.toml:11:1: steps[0].fractoin: unknown field `fractoin`, expected one of `action`, `note`, \
         `expect_revert`, `by`, `staker`, `operator`, `pool`, `avs`, `amount`, `shares`, `fraction`, `mode`, `opt_in`, \
         `duration`, `label`, `withdrawal`, `receiver`, `request`, `voters`, `round`, `pools`, `signer`, `asset`, \
         `bid`, `ask`, `lease`, `term`, `max_term`, `max_price`, `min_price`, `max_commission`, `commission`, \
         `min_rating`, `pool_value`, `isolated`, `shared`, `reuse_ratio`, `guard_used`, `backing`, `position`, `escrow`, `balance`, \
         `sink`, `rating`, `risk_weight`, `bond_short`, `bond`, `claimable`, `leases`, `credits`, `commission_owed`, \
         `events`, `no_events`"
    );
    assert_eq!(
        step_error("\n[[steps]]\naction = 3\n"),
        "examples/x.toml:10:10: steps[0].action: invalid type: integer `3`, expected a string"
    );
    assert_eq!(
        error("version = 1\navs = [{ name = \"judge\", kind = \"veto\", resolver = \"r\" }]\n")
            .to_string(),
        r#"examples/x.toml:2:33: avs[0]: an AVS of kind "veto" needs field `veto_window`"#
    );
    assert_eq!(
        error("version = 1\navs = [{ name = \"x\", kind = \"instant\", fraction = \"10%\" }]\n")
            .to_string(),
        r#"examples/x.toml:2:51: avs[0].fraction: not a field of an AVS of kind "instant" (it takes: max_slash)"#
    );
    assert_eq!(
        error("version = 1\navs = [{ name = \"x\", kind = \"committee\", members = [\"a\"], quorum = 2, veto_window = \"1d\", resolver = \"r\" }]\n").to_string(),
        r#"examples/x.toml:2:68: avs[0].quorum: expected a quorum between 1 and the number of members (1), got 2"#
    );
}

#[test]
fn the_document_itself() {
    assert_eq!(
        error("name = \"x\"\n").to_string(),
        "examples/x.toml:1:1: version: missing; a scenario starts with `version = 1`"
    );
    assert_eq!(
        error("version = 2\n").to_string(),
        "examples/x.toml:1:11: version: unsupported version 2, expected 1"
    );
    assert_eq!(
        error("version = \"1\"\n").to_string(),
        r#"examples/x.toml:1:11: version: expected the integer 1 (`version = 1`), got "1""#
    );
    assert_eq!(
        error("version = 1\n[[steps]\n").to_string(),
        "examples/x.toml:2:9: unclosed array table, expected `]`"
    );
    let err = error("version = 1\nstakers = [{ name = \"alice\" }, { name = \"alice\" }]\n");
    assert_eq!(
        (err.position, err.path.as_str(), err.message.as_str()),
        (
            Some((2, 41)),
            "stakers[1].name",
            "staker \"alice\" is declared twice"
        )
    );
    let missing = scenario::load("examples/does-not-exist.toml").expect_err("no such file");
    assert!(
        missing
            .to_string()
            .starts_with("examples/does-not-exist.toml: cannot read the file: "),
        "{missing}"
    );
}

#[test]
fn a_pool_used_before_any_deposit_is_a_located_run_error() {
    let text = r#"version = 1
operators = [{ name = "operatorA" }]
avs = [{ name = "oracle", kind = "instant" }]
pools = [{ name = "P", operator = "operatorA", asset = "WETH" }]
allocations = [{ pool = "P", avs = "oracle", mode = "shared", fraction = "10%" }]
"#;
    let scenario = scenario::parse("examples/x.toml", text).expect("well-formed");
    let err = scenario::run(&scenario).expect_err("P has no deposits");
    assert_eq!(
        err.to_string(),
        r#"examples/x.toml:5:25: allocations[0].pool: pool "P" does not exist in the vault yet: nothing has been deposited into it"#
    );
}

#[test]
fn reputation_steps_need_the_layer_and_well_formed_values() {
    // Without `[reputation]`: every reputation step, and an AVS's bond, are refused where they are written.
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"bond\"\navs = \"oracle\"\nasset = \"WETH\"\namount = \"10\"\n"
        ),
        r#"examples/x.toml:10:10: steps[0].action: action "bond" needs the reputation layer: add a `[reputation]` section"#
    );
    assert_eq!(
        error("version = 1\navs = [{ name = \"oracle\", kind = \"instant\", bond = { WETH = \"5\" } }]\n").to_string(),
        r#"examples/x.toml:2:54: avs[0].bond.WETH: a bond needs the reputation layer: add a `[reputation]` section"#
    );
    let on = format!("{HEAD}\n[reputation]\nevidence_units = {{ WETH = \"100\" }}\n");
    let with = |steps: &str| error(&format!("{on}{steps}")).to_string();
    assert_eq!(
        with(
            "\n[[steps]]\naction = \"checkpoint\"\navs = \"oracle\"\noperator = \"operatorA\"\npool = \"P\"\n"
        ),
        r#"examples/x.toml:13:10: steps[0]: a checkpoint names either `avs` (an AVS's epoch) or `operator` (an operator's)"#
    );
    assert_eq!(
        with("\n[[steps]]\naction = \"expect\"\nrisk_weight = { oracle = \"2.65x\" }\n"),
        r#"examples/x.toml:14:26: steps[0].risk_weight.oracle: expected a risk weight from "1x" to "5x" in tenths ("2.6x"), got "2.65x""#
    );
    assert_eq!(
        with("\n[[steps]]\naction = \"expect\"\nbond_short = { oracle = \"yes\" }\n"),
        r#"examples/x.toml:14:25: steps[0].bond_short.oracle: expected true or false, got "yes""#
    );
    assert_eq!(
        with(
            "\n[[steps]]\naction = \"unbond\"\navs = \"oracle\"\nasset = \"DAI\"\namount = \"1\"\n"
        ),
        r#"examples/x.toml:15:9: steps[0].asset: unknown asset "DAI" (declared: WETH, WBTC, USDC)"#
    );
}

#[test]
fn market_steps_name_their_orders_and_price_in_whole_bps() {
    assert_eq!(
        step_error(
            "\n[[steps]]\naction = \"fill\"\nlabel = \"l1\"\nbid = \"b9\"\nask = \"a1\"\namount = \"1\"\n"
        ),
        r#"examples/x.toml:12:7: steps[0].bid: unknown bid "b9": no earlier bid step has this label (none are declared)"#
    );
    let bid = "\n[[steps]]\naction = \"bid\"\nlabel = \"b1\"\navs = \"oracle\"\nasset = \"WETH\"\namount = \"200\"\nmode = \"isolated\"\nterm = \"30d\"\nmax_price = \"10.005%\"\n";
    assert_eq!(
        step_error(bid),
        "examples/x.toml:17:13: steps[0].max_price: prices and commissions are whole bps: a multiple of 0.01%"
    );
    let twice = "\n[[steps]]\naction = \"bid\"\nlabel = \"b1\"\navs = \"oracle\"\nasset = \"WETH\"\namount = \"200\"\nmode = \"isolated\"\nterm = \"30d\"\nmax_price = \"10%\"\n".repeat(2);
    assert_eq!(
        step_error(&twice),
        r#"examples/x.toml:21:9: steps[1].label: bid label "b1" is used twice"#
    );
    let figure = "\n[[steps]]\naction = \"bid\"\nlabel = \"b1\"\navs = \"oracle\"\nasset = \"WETH\"\namount = \"200\"\nmode = \"isolated\"\nterm = \"30d\"\nmax_price = \"10%\"\n\n[[steps]]\naction = \"ask\"\nlabel = \"a1\"\npool = \"P\"\namount = \"200\"\nmode = \"isolated\"\nmin_price = \"5%\"\nmax_term = \"60d\"\n\n[[steps]]\naction = \"fill\"\nlabel = \"l1\"\nbid = \"b1\"\nask = \"a1\"\namount = \"200\"\n\n[[steps]]\naction = \"expect\"\nleases = { l1 = { owed = \"1\" } }\n";
    assert_eq!(
        step_error(figure),
        "examples/x.toml:37:19: steps[3].leases.l1.owed: unknown lease figure \"owed\"; expected one of paid, refunded, premium, escrowed, backing"
    );
}
