fn main() {
    println!("droneid: under construction");
}
