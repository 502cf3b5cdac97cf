console.log("filters: build pending")
