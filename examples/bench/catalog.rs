//! Faceted category pages and full-text search on a catalog of the seed's large
//! preset (200 categories, 50,000 products and their variants: clothes in colours
//! and sizes, shoes in sizes...), by the store and by pgbench.
//!
//! The catalog is `ecom-seed --scale large` without users, orders or carts (these
//! statements read none of them), written as CSV by the seed's binary and copied in
//! with `psql \copy`, in a database of its own (`ecom_bench_catalog`), so that the
//! other workloads keep their small catalog. The filter values are read from the
//! data: the department with the most clothes, its two commonest colours and its
//! commonest size.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::config::with_database;
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_pool};

use crate::measure::{Run, drive, median, paired, summarize};
use crate::{Bench, CLIENTS, Options, ROUNDS, pgbench};

/// The workloads of this module, as `--only` names them.
pub(crate) const BROWSE: &str = "category page with facets";
pub(crate) const SEARCH: &str = "full-text search";

/// What a shopper typed: two words, the last one still being typed.
const QUERY: &str = "cotton sh";
/// Products per page, on both workloads.
const PAGE: u32 = 20;

/// The catalog's database, its store, and the listing every page asks for.
struct Catalog {
    url: String,
    store: PgStore,
    category: i64,
    colours: [String; 2],
    size: String,
}

/// Both workloads (those `options` wants), each at every client count in rounds of
/// store and pgbench, as the other workloads.
pub(crate) fn catalog_runs(bench: &Bench, options: &Options) -> Result<Vec<Run>, Box<dyn Error>> {
    if !options.wanted(BROWSE) && !options.wanted(SEARCH) {
        return Ok(Vec::new());
    }
    let catalog = large_catalog()?;
    println!(
        "category page with facets: category {}, colour in {:?}, size = {:?}, newest first, {PAGE} a page",
        catalog.category, catalog.colours, catalog.size
    );
    let browse = browse_request(&catalog)?;
    let search = SearchRequest {
        query: SearchQuery::parse(QUERY)?,
        page: PageRequest::first(PAGE),
    };
    let mut runs = Vec::new();
    for workload in [BROWSE, SEARCH] {
        if !options.wanted(workload) {
            continue;
        }
        let script = if workload == BROWSE {
            pgbench::browse_script(catalog.category, &catalog.colours, &catalog.size, PAGE + 1)
        } else {
            pgbench::fts_script(&search.query, PAGE + 1)
        };
        for clients in CLIENTS {
            let transactions = bench.per_client * clients;
            let (mut store_runs, mut raw_runs) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let reader = || catalog.store.writer_reader();
                let (latencies, wall) = drive(clients, transactions, |_| {
                    let result = if workload == BROWSE {
                        reader().browse(browse.clone()).map(drop)
                    } else {
                        reader().search(search.clone()).map(drop)
                    };
                    result.map_err(|e| e.to_string())
                });
                store_runs.push(summarize(workload, "ecom-store", clients, latencies, wall));
                raw_runs.push(pgbench::raw_script_on(
                    bench,
                    &catalog.url,
                    workload,
                    clients,
                    transactions,
                    &script,
                )?);
            }
            runs.push(paired(store_runs, &raw_runs));
            runs.push(median(raw_runs));
        }
    }
    Ok(runs)
}

/// The first page, newest first, of the chosen category in the two colours and the
/// size.
fn browse_request(catalog: &Catalog) -> Result<BrowseRequest, Box<dyn Error>> {
    Ok(BrowseRequest {
        category: CategoryId::new(catalog.category),
        filter: BrowseFilter {
            facets: vec![
                FacetFilter::new("colour", &catalog.colours)?,
                FacetFilter::new("size", &[&catalog.size])?,
            ],
            ..BrowseFilter::default()
        },
        sort: BrowseSort::Newest,
        page: PageRequest::first(PAGE),
    }
    .checked()?)
}

/// Drops and recreates `ecom_bench_catalog`, migrates it, loads the large preset's
/// catalog and picks the listing's filter.
fn large_catalog() -> Result<Catalog, Box<dyn Error>> {
    let admin_url = StoreConfig::from_env_or_dev()?
        .url_for_migrations()
        .to_owned();
    let url = with_database(&admin_url, "ecom_bench_catalog");
    {
        let mut admin = PgConnection::establish(&admin_url)?;
        diesel::sql_query("DROP DATABASE IF EXISTS ecom_bench_catalog WITH (FORCE)")
            .execute(&mut admin)?;
        diesel::sql_query("CREATE DATABASE ecom_bench_catalog").execute(&mut admin)?;
    }
    let pool = build_pool(&StoreConfig {
        pool_max_size: 10,
        pool_min_idle: 0,
        ..StoreConfig::new(&url)
    })?;
    migrate_pool(&pool)?;
    print!("catalog: the large preset's 50,000 products... ");
    let t = Instant::now();
    load_seed_catalog(&url)?;
    let mut conn = PgConnection::establish(&url)?;
    diesel::sql_query("VACUUM ANALYZE").execute(&mut conn)?;
    println!("{:.1?}", t.elapsed());
    let (category, colours, size) = pick_filter(&mut conn)?;
    Ok(Catalog {
        url,
        store: PgStore::with_rules(pool, StoreRules::default()),
        category,
        colours,
        size,
    })
}

/// The seed's binary beside this one, built first if it is not there.
fn seed_binary() -> Result<PathBuf, Box<dyn Error>> {
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name("ecom-seed");
    if !bin.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "ecom-seed"]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        if !build.status()?.success() {
            return Err("cargo build -p ecom-seed failed".into());
        }
    }
    Ok(bin)
}

/// The large preset's categories, products and variants: CSV from the seed, each
/// file copied into the columns its header names.
fn load_seed_catalog(url: &str) -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("ecom-bench-seed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let output = Command::new(seed_binary()?)
        .args([
            "--scale", "large", "--users", "0", "--orders", "0", "--carts", "0", "--quiet",
        ])
        .arg("--out")
        .arg(&dir)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "ecom-seed failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let mut script = String::from("BEGIN;\n");
    for table in ["categories", "products", "product_variants"] {
        let header = first_line(&dir.join(format!("{table}.csv")))?;
        script.push_str(&format!(
            "\\copy {table} ({header}) FROM '{table}.csv' WITH (FORMAT csv, HEADER true)\n"
        ));
    }
    script.push_str("COMMIT;\n");
    std::fs::write(dir.join("catalog.sql"), script)?;
    let psql = ecom_store::dev::bin_dir()?.join("psql");
    let output = Command::new(psql)
        .current_dir(&dir)
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "catalog.sql",
            url,
        ])
        .output()?;
    let _ = std::fs::remove_dir_all(&dir);
    if !output.status.success() {
        return Err(format!(
            "loading the catalog failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

fn first_line(path: &Path) -> Result<String, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

#[derive(QueryableByName)]
struct Department {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

/// The department (a root category) with the most clothes (products offered in
/// colours and sizes), its two commonest colours and its commonest size there.
fn pick_filter(conn: &mut PgConnection) -> Result<(i64, [String; 2], String), Box<dyn Error>> {
    const TREE: &str = "WITH RECURSIVE tree (root, id) AS ( \
             SELECT id, id FROM categories WHERE parent_id IS NULL \
             UNION ALL SELECT tree.root, c.id FROM categories c JOIN tree ON c.parent_id = tree.id)";
    let department: Department = diesel::sql_query(format!(
        "{TREE} SELECT tree.root AS id FROM tree JOIN products p ON p.category_id = tree.id \
         WHERE p.status = 'active' \
           AND EXISTS (SELECT 1 FROM unnest(p.facets) f WHERE f LIKE 'colour' || chr(31) || '%') \
           AND EXISTS (SELECT 1 FROM unnest(p.facets) f WHERE f LIKE 'size' || chr(31) || '%') \
         GROUP BY tree.root ORDER BY count(*) DESC, tree.root LIMIT 1"
    ))
    .get_result(conn)?;
    let commonest = |conn: &mut PgConnection, facet: &str, n: i64| {
        diesel::sql_query(format!(
            "{TREE} SELECT split_part(f, chr(31), 2) AS value \
             FROM tree JOIN products p ON p.category_id = tree.id, unnest(p.facets) f \
             WHERE tree.root = $1 AND p.status = 'active' AND f LIKE '{facet}' || chr(31) || '%' \
             GROUP BY f ORDER BY count(*) DESC, f LIMIT {n}"
        ))
        .bind::<BigInt, _>(department.id)
        .load::<Value>(conn)
    };
    let colours = commonest(conn, "colour", 2)?;
    let size = commonest(conn, "size", 1)?;
    match (colours.as_slice(), size.as_slice()) {
        ([a, b], [s]) => Ok((
            department.id,
            [a.value.clone(), b.value.clone()],
            s.value.clone(),
        )),
        _ => Err("the catalog has no department with clothes in colours and sizes".into()),
    }
}
