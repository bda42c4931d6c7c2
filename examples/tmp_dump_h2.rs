fn main() {
    let dir = std::path::PathBuf::from("/tmp/h2fx");
    std::fs::create_dir_all(&dir).unwrap();
    for f in fixturegen::h2::all() {
        std::fs::write(dir.join(f.name), &f.bytes).unwrap();
        std::fs::write(dir.join(f.truth_name()), f.truth_json()).unwrap();
    }
}
